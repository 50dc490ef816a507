package monitoring

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	agentmetrics "github.com/tongban/tongban/agent/metrics"
	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/changefeed"
	"github.com/tongban/tongban/hub/grant"
	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/licence"
	"github.com/tongban/tongban/hub/live"
	"github.com/tongban/tongban/hub/merge"
	"github.com/tongban/tongban/hub/objection"
	"github.com/tongban/tongban/hub/opendata"
	"github.com/tongban/tongban/hub/scorecard"
	"github.com/tongban/tongban/hub/store"
)

// recorder is a Registerer that keeps what is registered, so the hub's
// metrics can be described without running it.
type recorder struct{ cs []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error   { r.cs = append(r.cs, c); return nil }
func (r *recorder) MustRegister(cs ...prometheus.Collector) { r.cs = append(r.cs, cs...) }
func (r *recorder) Unregister(prometheus.Collector) bool    { return true }

var fqName = regexp.MustCompile(`fqName: "([a-z_:]+)"`)

func describe(t *testing.T, cs ...prometheus.Collector) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, c := range cs {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				names[m[1]] = true
			}
		}
	}
	return names
}

// hubFeatures registers the metrics of the hub's features built on ingest
// (merge, change feed, scorecards, objections, sharing, audit) on rec.
func hubFeatures(t *testing.T, st *store.DB, cat *catalog.Catalog, rec *recorder) error {
	t.Helper()
	cal, err := calendar.Load("../deploy/calendar/cn-public-holidays.yaml")
	if err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if _, err := merge.New(merge.Config{Store: st, Catalog: cat, Registry: rec, Logger: log}); err != nil {
		return err
	}
	if _, err := changefeed.New(changefeed.Config{Brokers: []string{"127.0.0.1:1"}, Outbox: st, Registry: rec, Logger: log}); err != nil {
		return err
	}
	if _, err := scorecard.New(scorecard.Config{Store: st, Catalog: cat, Conflicts: st, Registry: rec, Logger: log}); err != nil {
		return err
	}
	if _, err := objection.New(objection.Config{Store: st, Calendar: cal, Catalog: cat, Registry: rec, Logger: log}); err != nil {
		return err
	}
	if _, err := grant.New(grant.Config{Store: st, Catalog: cat, Calendar: cal, Registry: rec, Logger: log}); err != nil {
		return err
	}
	lr, err := live.New(live.Config{Catalog: cat, Registry: rec, Logger: log})
	if err != nil {
		return err
	}
	lr.Close()
	if _, err := licence.New(licence.Config{Store: st, Catalog: cat, Registry: rec, Logger: log}); err != nil {
		return err
	}
	if _, err := opendata.New(opendata.Config{Store: st, Catalog: cat, Dir: t.TempDir(), Registry: rec, Logger: log}); err != nil {
		return err
	}
	al, err := audit.New(audit.Config{Store: st, Registry: rec, Logger: log})
	if err != nil {
		return err
	}
	return al.Close(context.Background())
}

// defined returns every metric name the agent and the hub define.
func defined(t *testing.T) map[string]bool {
	t.Helper()
	names := describe(t, agentmetrics.New().Registry)
	st, err := store.Open(context.Background(), store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := catalog.Load("../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	in, err := ingest.New(ingest.Config{Brokers: []string{"127.0.0.1:1"}, Store: st, Catalog: cat, Registry: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := hubFeatures(t, st, cat, rec); err != nil {
		t.Fatal(err)
	}
	for n := range describe(t, rec.cs...) {
		names[n] = true
	}
	if len(names) < 10 {
		t.Fatalf("only %d metrics described: %v", len(names), names)
	}
	return names
}

var used = regexp.MustCompile(`tongban_[a-z_]+`)

func usedIn(t *testing.T, text string) []string {
	t.Helper()
	var out []string
	for _, m := range used.FindAllString(text, -1) {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			m = strings.TrimSuffix(m, suf)
		}
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func TestRulesAndDashboardUseDefinedMetrics(t *testing.T) {
	names := defined(t)

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	raw, err := os.ReadFile("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			ms := usedIn(t, r.Expr)
			if r.Alert == "" || len(ms) == 0 {
				t.Errorf("rule %q has no name or uses no tongban metric: %q", r.Alert, r.Expr)
			}
			for _, m := range ms {
				if !names[m] {
					t.Errorf("alert %s uses %s, which no component defines", r.Alert, m)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no alert rules")
	}

	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	raw, err = os.ReadFile("grafana/tongban-flow.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if len(dash.Panels) == 0 {
		t.Fatal("dashboard has no panels")
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range usedIn(t, tg.Expr) {
				if !names[m] {
					t.Errorf("panel %q uses %s, which no component defines", p.Title, m)
				}
			}
		}
	}
}
