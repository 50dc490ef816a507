package merge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
)

// Store is what the merger needs of the hub store (*store.DB).
type Store interface {
	// MergeSubjects reads the subjects' live records, calls compute and
	// writes its outcome, all in one transaction.
	MergeSubjects(ctx context.Context, resources, subjects []string, compute func(recs []store.Record) ([]store.SubjectMerge, error), at time.Time) (store.MergeResult, error)
}

// Config of a Merger.
type Config struct {
	Store   Store            // required
	Catalog *catalog.Catalog // required; its Subjects say what is merged
	// Registry receives the merge metrics; optional.
	Registry prometheus.Registerer
	Logger   *slog.Logger
}

// Stats counts what one Merge did.
type Stats struct {
	Subjects          int // subjects recomputed
	GoldenChanged     int // golden records changed
	FieldsChanged     int // golden fields changed (history rows)
	ConflictsOpened   int // conflicts opened or reopened
	ConflictsResolved int // conflicts resolved by agreement
}

// Merger recomputes golden records of the subjects whose source records
// changed. It is safe for concurrent use, but merges of the same subject
// should not run concurrently (the last write wins); ingest keeps a
// subject's records on one partition.
type Merger struct {
	st    Store
	log   *slog.Logger
	specs map[string]*catalog.SubjectSpec // by resource code
	res   map[string]*catalog.Resource
	// resources of each spec, by spec type
	specRes map[string][]string

	subjects, golden, opened, resolved *prometheus.CounterVec
	duration                           prometheus.Histogram
}

// New returns a Merger over the catalog's subject specs.
func New(cfg Config) (*Merger, error) {
	if cfg.Store == nil || cfg.Catalog == nil {
		return nil, errors.New("merge: Store and Catalog are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Merger{st: cfg.Store, log: cfg.Logger, specs: map[string]*catalog.SubjectSpec{},
		res: ResourceMap(cfg.Catalog), specRes: map[string][]string{}}
	for i := range cfg.Catalog.Subjects {
		spec := &cfg.Catalog.Subjects[i]
		rs := SpecResources(spec)
		m.specRes[spec.Type] = rs
		for _, r := range rs {
			if other, dup := m.specs[r]; dup && other.Type != spec.Type {
				return nil, fmt.Errorf("merge: resource %s is named by the %s and the %s golden records", r, other.Type, spec.Type)
			}
			m.specs[r] = spec
		}
	}
	m.subjects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tongban_merge_subjects_total", Help: "Subjects whose golden record was recomputed, by library.",
	}, []string{"library"})
	m.golden = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tongban_golden_changes_total", Help: "Golden records changed (one change-outbox row each), by library.",
	}, []string{"library"})
	m.opened = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tongban_conflicts_opened_total", Help: "Conflicts opened or reopened by the merge, by library.",
	}, []string{"library"})
	m.resolved = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tongban_conflicts_resolved_total", Help: "Conflicts resolved because the sources agree again, by library.",
	}, []string{"library"})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "tongban_merge_duration_seconds", Help: "Duration of one merge batch (read, compute, write).",
		Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
	})
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{m.subjects, m.golden, m.opened, m.resolved, m.duration} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("merge: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// Merge recomputes the golden records of the subjects named in refs (as
// store.ApplyResult.Subjects reports them) and writes the outcome in one
// transaction. Refs of resources no subject spec names, and empty subjects,
// are ignored. Merging an unchanged state writes nothing, and the outcome
// depends only on the stored records, not on the order of batches.
func (m *Merger) Merge(ctx context.Context, refs []store.SubjectRef) (Stats, error) {
	start := time.Now()
	bySpec := map[string][]string{}
	specs := map[string]*catalog.SubjectSpec{}
	for _, ref := range refs {
		spec, ok := m.specs[ref.Resource]
		if !ok || ref.Subject == "" {
			continue
		}
		specs[spec.Type] = spec
		bySpec[spec.Type] = append(bySpec[spec.Type], ref.Subject)
	}
	if len(bySpec) == 0 {
		return Stats{}, nil
	}
	for typ, subjects := range bySpec {
		slices.Sort(subjects)
		bySpec[typ] = slices.Compact(subjects)
	}
	return m.mergeOnce(ctx, bySpec, specs, start)
}

func (m *Merger) mergeOnce(ctx context.Context, bySpec map[string][]string, specs map[string]*catalog.SubjectSpec, start time.Time) (Stats, error) {
	res := store.MergeResult{ByLibrary: map[string]store.MergeCounts{}}
	for _, typ := range slices.Sorted(maps.Keys(bySpec)) {
		spec := specs[typ]
		subjects := bySpec[typ]
		compute := func(recs []store.Record) ([]store.SubjectMerge, error) {
			bySubject := map[string][]store.Record{}
			for _, r := range recs {
				bySubject[r.Subject] = append(bySubject[r.Subject], r)
			}
			merges := make([]store.SubjectMerge, 0, len(subjects))
			for _, id := range subjects {
				sm, err := Compute(Input{Spec: spec, Resources: m.res, SubjectID: id, Records: bySubject[id]})
				if err != nil {
					return nil, err
				}
				merges = append(merges, sm)
			}
			return merges, nil
		}
		// Read, compute and write in one transaction: what is written is
		// computed from exactly the records the transaction holds.
		r, err := m.st.MergeSubjects(ctx, m.specRes[typ], subjects, compute, time.Time{})
		if err != nil {
			return Stats{}, fmt.Errorf("merge: %d %s subjects: %w", len(subjects), typ, err)
		}
		res.Subjects += r.Subjects
		res.GoldenChanged += r.GoldenChanged
		res.FieldsChanged += r.FieldsChanged
		res.ConflictsOpened += r.ConflictsOpened
		res.ConflictsReopened += r.ConflictsReopened
		res.ConflictsResolved += r.ConflictsResolved
		for lib, c := range r.ByLibrary {
			res.ByLibrary[lib] = c
		}
	}
	for lib, c := range res.ByLibrary {
		m.subjects.WithLabelValues(lib).Add(float64(c.Subjects))
		m.golden.WithLabelValues(lib).Add(float64(c.GoldenChanged))
		m.opened.WithLabelValues(lib).Add(float64(c.ConflictsOpened + c.ConflictsReopened))
		m.resolved.WithLabelValues(lib).Add(float64(c.ConflictsResolved))
	}
	d := time.Since(start)
	m.duration.Observe(d.Seconds())
	st := Stats{Subjects: res.Subjects, GoldenChanged: res.GoldenChanged, FieldsChanged: res.FieldsChanged,
		ConflictsOpened: res.ConflictsOpened + res.ConflictsReopened, ConflictsResolved: res.ConflictsResolved}
	m.log.DebugContext(ctx, "merge: batch merged", "subjects", st.Subjects, "golden_changed", st.GoldenChanged,
		"conflicts_opened", st.ConflictsOpened, "conflicts_resolved", st.ConflictsResolved, "duration", d)
	return st, nil
}
