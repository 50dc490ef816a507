package server

import (
	"context"
	"fmt"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/deploy"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/changefeed"
	"github.com/tongban/tongban/hub/grant"
	"github.com/tongban/tongban/hub/licence"
	"github.com/tongban/tongban/hub/live"
	"github.com/tongban/tongban/hub/merge"
	"github.com/tongban/tongban/hub/objection"
	"github.com/tongban/tongban/hub/opendata"
	"github.com/tongban/tongban/hub/scorecard"
	"github.com/tongban/tongban/hub/store"
)

// features are the parts of the hub built on ingest: the merge into golden
// records with its change feed, the quality scorecards and objections.
type features struct {
	cal        *calendar.Calendar
	sharing    *grant.Service
	audit      *audit.Logger
	live       *live.Router
	merger     *merge.Merger
	publisher  *changefeed.Publisher
	scorer     *scorecard.Scorer
	objections *objection.Service
	licences   *licence.Service
	openData   *opendata.Service
}

// newFeatures builds them on the open store, loaded catalog and running
// Kafka (where it creates one compacted change topic per base library).
func (s *Server) newFeatures(ctx context.Context) (*features, error) {
	f := &features{}
	var err error
	if s.cfg.CalendarFile == "" {
		f.cal, err = calendar.Parse(deploy.Calendar, deploy.CalendarFile)
	} else {
		f.cal, err = calendar.Load(s.cfg.CalendarFile)
	}
	if err != nil {
		return nil, fmt.Errorf("hub: calendar_file: %w", err)
	}
	f.merger, err = merge.New(merge.Config{Store: s.db, Catalog: s.cat, Registry: s.reg, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	f.publisher, err = changefeed.New(changefeed.Config{Brokers: s.brokers, TopicPrefix: s.cfg.Kafka.GoldenTopicPrefix,
		Partitions: s.cfg.Kafka.Partitions, Outbox: s.db, Registry: s.reg, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	// The catalog's libraries get their topics now, so consumers can
	// subscribe before the first change.
	libraries := make([]string, 0, len(s.cat.Subjects))
	for _, spec := range s.cat.Subjects {
		libraries = append(libraries, spec.Library)
	}
	if err := f.publisher.EnsureTopics(ctx, libraries); err != nil {
		return nil, fmt.Errorf("hub: kafka %v: %w", s.brokers, err)
	}
	f.scorer, err = scorecard.New(scorecard.Config{Store: s.db, Catalog: s.cat, Conflicts: s.db, Registry: s.reg,
		Logger: s.log, Interval: s.cfg.Quality.ScorecardInterval})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	f.objections, err = objection.New(objection.Config{Store: s.db, Calendar: f.cal, Catalog: s.cat, Registry: s.reg, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	var lists *grant.Lists
	if s.cfg.Sharing.ListsDir != "" {
		if lists, err = grant.LoadDir(s.cfg.Sharing.ListsDir, s.cat); err != nil {
			return nil, fmt.Errorf("hub: sharing.lists_dir: %w", err)
		}
	}
	f.sharing, err = grant.New(grant.Config{Store: s.db, Catalog: s.cat, Calendar: f.cal, Lists: lists, Registry: s.reg, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	f.audit, err = audit.New(audit.Config{Store: s.db, Registry: s.reg, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	f.live, err = live.New(live.Config{Catalog: s.cat, Timeout: s.cfg.Live.Timeout, OnlineWindow: s.cfg.Live.OnlineWindow,
		Registry: s.reg, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if f.licences, err = s.newLicences(f); err != nil {
		return nil, err
	}
	if f.openData, err = s.newOpenData(f); err != nil {
		return nil, err
	}
	return f, nil
}

// ingestMerger is the ingest side of the merge: merge the changed subjects,
// then wake the change-feed publisher.
type ingestMerger struct {
	m *merge.Merger
	p *changefeed.Publisher
}

func (im ingestMerger) Merge(ctx context.Context, refs []store.SubjectRef) error {
	st, err := im.m.Merge(ctx, refs)
	if err != nil {
		return err
	}
	if st.GoldenChanged > 0 {
		im.p.Notify()
	}
	return nil
}
