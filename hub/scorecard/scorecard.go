// Package scorecard computes the data-quality scorecard of every catalog
// resource on the dimensions of GB/T 36344-2018 (信息技术 数据质量评价指标):
// completeness (完整性), validity (规范性: records passing the declared
// rules), uniqueness (唯一性 of the subject key), consistency (一致性 with
// the other sources of a golden record) and timeliness (时效性 against the
// declared update cycle). Each computation saves the day's figures in the
// store (for trends) and sets Prometheus gauges.
package scorecard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
)

// Dimensions (GB/T 36344).
const (
	Completeness = "completeness"
	Validity     = "validity"
	Uniqueness   = "uniqueness"
	Consistency  = "consistency"
	Timeliness   = "timeliness"
)

// DefaultInterval is how often Run computes when Config.Interval is zero.
const DefaultInterval = 5 * time.Minute

// pageSize is how many records Compute reads at a time.
const pageSize = 1000

// progressEvery is how many records of one resource pass between progress
// logs of a long scan.
const progressEvery = 100_000

// Store is what the scorer needs of the hub store (*store.DB).
type Store interface {
	ListRecords(ctx context.Context, resource, after string, limit int, includeDeleted bool) ([]store.Record, error)
	CountRecords(ctx context.Context) ([]store.ResourceCount, error)
	OpenQuarantineKeys(ctx context.Context, resource string) (int64, error)
	CountOpenQuarantine(ctx context.Context) ([]store.QuarantineCount, error)
	SharedSubjectRecords(ctx context.Context, resource string) (int64, error)
	SaveQualityFigures(ctx context.Context, day string, figs []store.QualityFigure) error
}

// ConflictCounter counts the open golden-record conflicts involving each
// resource.
type ConflictCounter interface {
	CountOpenConflictsByResource(ctx context.Context) (map[string]int64, error)
}

// Config of a Scorer.
type Config struct {
	Store   Store            // required
	Catalog *catalog.Catalog // required
	// Conflicts is optional: without it consistency is not reported.
	Conflicts ConflictCounter
	// Registry receives the gauges; optional.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// Interval between computations of Run; DefaultInterval when zero.
	Interval time.Duration
	// Now is the clock (time.Now when nil). Its location decides the day a
	// computation's figures are saved under.
	Now func() time.Time
}

// Score is one figure: Value = Numerator / Denominator, in [0, 1], except
// for timeliness, whose Numerator is the age of the last ingest in seconds
// (-1 if never) and Denominator the update cycle in seconds.
type Score struct {
	Dimension   string
	Field       string // "" at resource level
	Value       float64
	Numerator   int64
	Denominator int64
}

// Scorecard is the quality of one resource at one time.
type Scorecard struct {
	Resource string
	Dept     string
	Day      string // YYYY-MM-DD the figures are saved under
	Live     int64  // live records scanned
	// Scores are the resource-level figures, in dimension order; a
	// dimension that does not apply or cannot be computed (no records) is
	// absent.
	Scores []Score
	// Fields is the completeness of each field, in schema order.
	Fields []Score
	// LastIngest is the latest ingest time (zero if never ingested).
	LastIngest time.Time
	// AgeSeconds is the time since LastIngest (-1 if never ingested).
	AgeSeconds float64
	// Overdue: no ingest within the update cycle.
	Overdue bool
}

// Score returns the resource-level score of dimension.
func (c *Scorecard) Score(dimension string) (Score, bool) {
	for _, s := range c.Scores {
		if s.Dimension == dimension {
			return s, true
		}
	}
	return Score{}, false
}

// CycleDuration is how long a resource of update cycle may go without an
// ingest before it is overdue; false for an unknown cycle.
func CycleDuration(cycle string) (time.Duration, bool) {
	const day = 24 * time.Hour
	switch cycle {
	case catalog.CycleRealtime:
		return time.Hour, true
	case catalog.CycleDaily:
		return day, true
	case catalog.CycleWeekly:
		return 7 * day, true
	case catalog.CycleMonthly:
		return 31 * day, true
	case catalog.CycleQuarterly:
		return 92 * day, true
	case catalog.CycleYearly:
		return 366 * day, true
	}
	return 0, false
}

// Scorer computes scorecards.
type Scorer struct {
	cfg      Config
	log      *slog.Logger
	pageSize int // records per ListRecords call

	score        *prometheus.GaugeVec // resource, dept, dimension
	fieldCompl   *prometheus.GaugeVec // resource, field
	overdue      *prometheus.GaugeVec // resource, dept
	age          *prometheus.GaugeVec // resource
	quarantine   *prometheus.GaugeVec // resource, rule, field
	computations *prometheus.CounterVec
}

// New returns a Scorer; its gauges are registered on cfg.Registry.
func New(cfg Config) (*Scorer, error) {
	if cfg.Store == nil || cfg.Catalog == nil {
		return nil, errors.New("scorecard: Store and Catalog are required")
	}
	if cfg.Interval < 0 {
		return nil, fmt.Errorf("scorecard: interval %s is negative", cfg.Interval)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Scorer{
		cfg:      cfg,
		log:      cfg.Logger,
		pageSize: pageSize,
		score: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tongban_quality_score",
			Help: "Data quality score (0..1) of a resource by GB/T 36344 dimension: completeness, validity, uniqueness, consistency, timeliness.",
		}, []string{"resource", "dept", "dimension"}),
		fieldCompl: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tongban_quality_field_completeness",
			Help: "Share (0..1) of a resource's live records with the field non-null and non-blank.",
		}, []string{"resource", "field"}),
		overdue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tongban_quality_resource_overdue",
			Help: "1 when a resource has had no ingest within its declared update cycle, else 0.",
		}, []string{"resource", "dept"}),
		age: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tongban_quality_last_update_age_seconds",
			Help: "Seconds since the last ingest of a resource (absent if never ingested).",
		}, []string{"resource"}),
		quarantine: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tongban_quarantine_open",
			Help: "Open quarantine entries by resource, rule and field.",
		}, []string{"resource", "rule", "field"}),
		computations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_quality_scorecard_runs_total",
			Help: "Scorecard computations by outcome (ok or error).",
		}, []string{"outcome"}),
	}
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{s.score, s.fieldCompl, s.overdue, s.age, s.quarantine, s.computations} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("scorecard: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Run computes at once and then every Interval until ctx ends; a failed
// computation is logged and the next one runs on time. It returns nil when
// ctx ends.
func (s *Scorer) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := s.Compute(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "scorecard: computation failed; retrying at the next interval", "interval", s.cfg.Interval, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Compute scores every catalog resource (in catalog order), saves the day's
// figures and sets the gauges. Records are read a page at a time.
func (s *Scorer) Compute(ctx context.Context) (cards []Scorecard, err error) {
	defer func() {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		s.computations.WithLabelValues(outcome).Inc()
	}()
	now := s.cfg.Now()
	day := now.Format(time.DateOnly)
	counts, err := s.cfg.Store.CountRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("scorecard: %w", err)
	}
	lastIngest := make(map[string]time.Time, len(counts))
	for _, c := range counts {
		lastIngest[c.Resource] = c.LastIngest
	}
	var conflicts map[string]int64
	if s.cfg.Conflicts != nil {
		if conflicts, err = s.cfg.Conflicts.CountOpenConflictsByResource(ctx); err != nil {
			return nil, fmt.Errorf("scorecard: count open conflicts: %w", err)
		}
	}
	qcounts, err := s.cfg.Store.CountOpenQuarantine(ctx)
	if err != nil {
		return nil, fmt.Errorf("scorecard: %w", err)
	}

	var figs []store.QualityFigure
	for i := range s.cfg.Catalog.Resources {
		res := &s.cfg.Catalog.Resources[i]
		card, err := s.resource(ctx, res, now, lastIngest[res.Code], conflicts)
		if err != nil {
			return nil, fmt.Errorf("scorecard: resource %s: %w", res.Code, err)
		}
		card.Day = day
		cards = append(cards, card)
		figs = append(figs, figures(card, now)...)
	}
	if err := s.cfg.Store.SaveQualityFigures(ctx, day, figs); err != nil {
		return nil, fmt.Errorf("scorecard: %w", err)
	}
	s.setGauges(cards, qcounts)
	s.log.DebugContext(ctx, "scorecard: computed", "resources", len(cards), "day", day)
	return cards, nil
}

// resource computes the scorecard of one resource.
func (s *Scorer) resource(ctx context.Context, res *catalog.Resource, now, last time.Time, conflicts map[string]int64) (Scorecard, error) {
	card := Scorecard{Resource: res.Code, Dept: res.Provider, LastIngest: last}
	fields := res.Schema.Fields
	filled := make([]int64, len(fields))
	var live int64
	started := time.Now()
	for after := ""; ; {
		recs, err := s.cfg.Store.ListRecords(ctx, res.Code, after, s.pageSize, false)
		if err != nil {
			return Scorecard{}, err
		}
		for _, r := range recs {
			live++
			var vals map[string]json.RawMessage
			if err := json.Unmarshal(r.Data, &vals); err != nil {
				// The store only keeps JSON objects; count the record as empty.
				s.log.WarnContext(ctx, "scorecard: record data is not a JSON object", "resource", res.Code, "key", r.Key, "err", err)
				continue
			}
			for j, f := range fields {
				if present(vals[f.Name]) {
					filled[j]++
				}
			}
			if live%progressEvery == 0 {
				s.log.InfoContext(ctx, "scorecard: scanning", "resource", res.Code, "records", live, "elapsed", time.Since(started).Round(time.Millisecond))
			}
		}
		if len(recs) < s.pageSize {
			break
		}
		after = recs[len(recs)-1].Key
	}
	card.Live = live

	if live > 0 && len(fields) > 0 {
		var num int64
		for j, f := range fields {
			card.Fields = append(card.Fields, ratio(Completeness, f.Name, filled[j], live))
			num += filled[j]
		}
		card.Scores = append(card.Scores, ratio(Completeness, "", num, live*int64(len(fields))))
	}

	bad, err := s.cfg.Store.OpenQuarantineKeys(ctx, res.Code)
	if err != nil {
		return Scorecard{}, err
	}
	if live+bad > 0 {
		card.Scores = append(card.Scores, ratio(Validity, "", live, live+bad))
	}

	if subjectKeyed(res) && live > 0 {
		shared, err := s.cfg.Store.SharedSubjectRecords(ctx, res.Code)
		if err != nil {
			return Scorecard{}, err
		}
		card.Scores = append(card.Scores, ratio(Uniqueness, "", max(live-shared, 0), live))
	}

	if conflicts != nil && live > 0 {
		card.Scores = append(card.Scores, ratio(Consistency, "", max(live-conflicts[res.Code], 0), live))
	}

	if cycle, ok := CycleDuration(res.UpdateCycle); ok {
		t := Score{Dimension: Timeliness, Numerator: -1, Denominator: int64(cycle / time.Second)}
		card.AgeSeconds, card.Overdue = -1, true
		if !last.IsZero() {
			age := max(now.Sub(last), 0)
			card.AgeSeconds = age.Seconds()
			t.Numerator = int64(age / time.Second)
			card.Overdue = age > cycle
		}
		if !card.Overdue {
			t.Value = 1
		}
		card.Scores = append(card.Scores, t)
	}
	return card, nil
}

// subjectKeyed reports whether a resource's primary key is exactly its
// subject field: then every record should be about a distinct subject.
func subjectKeyed(res *catalog.Resource) bool {
	f := res.SubjectKeyField()
	return f != "" && len(res.PrimaryKey) == 1 && res.PrimaryKey[0] == f
}

// present reports a value that is neither missing, null nor blank text.
func present(raw json.RawMessage) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return false
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return false
		}
		return strings.TrimSpace(s) != ""
	}
	return true
}

func ratio(dim, field string, num, den int64) Score {
	sc := Score{Dimension: dim, Field: field, Numerator: num, Denominator: den}
	if den > 0 {
		sc.Value = float64(num) / float64(den)
	}
	return sc
}

// figures renders a scorecard as the store's daily figures.
func figures(c Scorecard, now time.Time) []store.QualityFigure {
	out := make([]store.QualityFigure, 0, len(c.Scores)+len(c.Fields))
	for _, list := range [][]Score{c.Scores, c.Fields} {
		for _, sc := range list {
			out = append(out, store.QualityFigure{Resource: c.Resource, Dept: c.Dept, Dimension: sc.Dimension, Field: sc.Field,
				Value: sc.Value, Numerator: sc.Numerator, Denominator: sc.Denominator, ComputedAt: now})
		}
	}
	return out
}

// setGauges replaces every gauge's values with those of cards and qcounts,
// so resources, fields or rules that no longer have a value disappear.
func (s *Scorer) setGauges(cards []Scorecard, qcounts []store.QuarantineCount) {
	type qk struct{ resource, rule, field string }
	q := map[qk]int64{}
	for _, c := range qcounts {
		q[qk{c.Resource, c.Rule, c.Field}] += c.Open
	}
	s.score.Reset()
	s.fieldCompl.Reset()
	s.overdue.Reset()
	s.age.Reset()
	s.quarantine.Reset()
	for _, c := range cards {
		for _, sc := range c.Scores {
			s.score.WithLabelValues(c.Resource, c.Dept, sc.Dimension).Set(sc.Value)
		}
		for _, sc := range c.Fields {
			s.fieldCompl.WithLabelValues(c.Resource, sc.Field).Set(sc.Value)
		}
		if _, ok := c.Score(Timeliness); ok {
			v := 0.0
			if c.Overdue {
				v = 1
			}
			s.overdue.WithLabelValues(c.Resource, c.Dept).Set(v)
			if c.AgeSeconds >= 0 {
				s.age.WithLabelValues(c.Resource).Set(c.AgeSeconds)
			}
		}
	}
	for k, n := range q {
		s.quarantine.WithLabelValues(k.resource, k.rule, k.field).Set(float64(n))
	}
}
