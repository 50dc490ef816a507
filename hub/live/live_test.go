package live

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/schemas"
)

const (
	police = "1123060001281401X7"
	market = "112306000128140287"
)

// clock is a settable clock for the online window.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	str, _ := schemas.ParseType("string")
	i64, _ := schemas.ParseType("int64")
	return &catalog.Catalog{Resources: []catalog.Resource{
		{Code: "POP", Provider: police, Live: true, PrimaryKey: []string{"id"},
			Schema: schemas.Schema{Fields: []schemas.Field{{Name: "id", Type: str}, {Name: "n", Type: i64, Nullable: true}}}},
		{Code: "COPY", Provider: police, PrimaryKey: []string{"id"},
			Schema: schemas.Schema{Fields: []schemas.Field{{Name: "id", Type: str}}}},
	}}
}

func newRouter(t *testing.T, cat *catalog.Catalog) (*Router, *clock, *prometheus.Registry) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	reg := prometheus.NewRegistry()
	r, err := New(Config{Catalog: cat, Registry: reg, Now: clk.now, OnlineWindow: time.Minute, MaxPending: 3})
	if err != nil {
		t.Fatal(err)
	}
	return r, clk, reg
}

// agent polls for dept until ctx ends and answers every request with
// answer(req).
func agent(ctx context.Context, r *Router, dept string, answer func(Request) Answer) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			reqs, err := r.Poll(ctx, dept, "a1", nil, 10, time.Second)
			if err != nil {
				return
			}
			var as []Answer
			for _, q := range reqs {
				a := answer(q)
				a.ID = q.ID
				as = append(as, a)
			}
			_ = r.Complete(dept, as)
		}
	}()
	return &wg
}

// markOnline makes dept's agent online: one poll that returns at once.
func markOnline(t *testing.T, r *Router, dept string) {
	t.Helper()
	if _, err := r.Poll(context.Background(), dept, "a1", nil, 1, 0); err != nil {
		t.Fatal(err)
	}
}

func TestLookupAnswers(t *testing.T) {
	tests := []struct {
		name    string
		answer  Answer
		want    Result
		wantErr any
	}{
		{"found", Answer{Found: true, Data: json.RawMessage(`{"id":"k1","n":7}`), Version: 42},
			Result{Found: true, Data: json.RawMessage(`{"id":"k1","n":7}`), Version: 42}, nil},
		{"not found", Answer{Found: false, Version: 43}, Result{Found: false, Version: 43}, nil},
		{"agent error", Answer{Error: "database down"}, Result{}, new(*AgentError)},
		{"not an object", Answer{Found: true, Data: json.RawMessage(`[1]`)}, Result{}, new(*AgentError)},
		{"missing field", Answer{Found: true, Data: json.RawMessage(`{"id":"k1"}`)}, Result{}, new(*AgentError)},
		{"extra field", Answer{Found: true, Data: json.RawMessage(`{"id":"k1","n":1,"x":2}`)}, Result{}, new(*AgentError)},
		{"data without found", Answer{Found: false, Data: json.RawMessage(`{"id":"k1","n":1}`)}, Result{}, new(*AgentError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, _ := newRouter(t, testCatalog(t))
			ctx, cancel := context.WithCancel(context.Background())
			var seen Request
			wg := agent(ctx, r, police, func(q Request) Answer { seen = q; return tt.answer })
			defer func() { cancel(); wg.Wait() }()
			markOnline(t, r, police)
			got, err := r.Lookup(context.Background(), police, "POP", []string{"k1"}, 20*time.Second)
			if tt.wantErr != nil {
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("Lookup = %+v, %v; want %T", got, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), police) {
					t.Errorf("error %q does not name the department", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Found != tt.want.Found || string(got.Data) != string(tt.want.Data) || got.Version != tt.want.Version {
				t.Errorf("Lookup = %+v, want %+v", got, tt.want)
			}
			if seen.Resource != "POP" || len(seen.Key) != 1 || seen.Key[0] != "k1" || seen.ID == "" {
				t.Errorf("agent saw %+v", seen)
			}
		})
	}
}

func TestLookupOfflineAtOnce(t *testing.T) {
	r, clk, _ := newRouter(t, testCatalog(t))
	// Never polled: offline, even with a long timeout.
	_, err := r.Lookup(context.Background(), police, "POP", []string{"k"}, time.Hour)
	var off *OfflineError
	if !errors.As(err, &off) || off.Dept != police || !strings.Contains(err.Error(), "不在线") {
		t.Fatalf("Lookup without agent = %v, want *OfflineError naming %s", err, police)
	}
	// A poll makes it online for the window, then offline again.
	markOnline(t, r, police)
	if n := r.Online(police, ""); n != 1 {
		t.Fatalf("Online = %d after a poll, want 1", n)
	}
	clk.add(2 * time.Minute)
	if n := r.Online(police, ""); n != 0 {
		t.Fatalf("Online = %d after the window, want 0", n)
	}
	if _, err := r.Lookup(context.Background(), police, "POP", []string{"k"}, time.Hour); !errors.As(err, &off) {
		t.Fatalf("Lookup after the window = %v, want *OfflineError", err)
	}
}

func TestLookupTimeoutWithdraws(t *testing.T) {
	r, _, reg := newRouter(t, testCatalog(t))
	markOnline(t, r, police) // online, but nobody polls to take the request
	_, err := r.Lookup(context.Background(), police, "POP", []string{"k"}, 10*time.Millisecond)
	var te *TimeoutError
	if !errors.As(err, &te) || te.Dept != police || !strings.Contains(err.Error(), police) {
		t.Fatalf("Lookup = %v, want *TimeoutError naming the department", err)
	}
	// The request is gone: a poll finds nothing.
	if reqs, err := r.Poll(context.Background(), police, "a1", nil, 10, 0); err != nil || len(reqs) != 0 {
		t.Fatalf("Poll after the timeout = %v, %v; want none", reqs, err)
	}
	if got := metricValue(t, reg, "tongban_live_requests_total", "result", "timeout"); got != 1 {
		t.Errorf("timeout counter = %v, want 1", got)
	}
	if got := metricValue(t, reg, "tongban_live_agents_online", "dept", police); got != 1 {
		t.Errorf("agents online = %v, want 1", got)
	}
	if got := metricValue(t, reg, "tongban_live_seconds", "result", "timeout"); got != 1 {
		t.Errorf("histogram count = %v, want 1", got)
	}
}

func TestLookupCancelWithdraws(t *testing.T) {
	r, _, _ := newRouter(t, testCatalog(t))
	markOnline(t, r, police)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Lookup(ctx, police, "POP", []string{"k"}, time.Hour)
		done <- err
	}()
	// Wait until it is queued, then cancel.
	for {
		r.mu.Lock()
		n := len(r.depts[police].byID)
		r.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Lookup = %v, want context.Canceled", err)
	}
	if reqs, _ := r.Poll(context.Background(), police, "a1", nil, 10, 0); len(reqs) != 0 {
		t.Fatalf("Poll after cancel = %v, want none", reqs)
	}
}

func TestLookupRefusesBadRequests(t *testing.T) {
	r, _, _ := newRouter(t, testCatalog(t))
	markOnline(t, r, police)
	markOnline(t, r, market)
	tests := []struct {
		name, dept, res string
		key             []string
		field           string
	}{
		{"unknown resource", police, "NOPE", []string{"k"}, "resource"},
		{"not live", police, "COPY", []string{"k"}, "resource"},
		{"other provider", market, "POP", []string{"k"}, "resource"},
		{"key too long", police, "POP", []string{"k", "x"}, "key"},
		{"no key", police, "POP", nil, "key"},
		{"key too big", police, "POP", []string{strings.Repeat("x", MaxKeyBytes+1)}, "key"},
		{"empty resource", police, "", []string{"k"}, "resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Lookup(context.Background(), tt.dept, tt.res, tt.key, time.Hour)
			var re *RequestError
			if !errors.As(err, &re) || re.Field != tt.field {
				t.Fatalf("Lookup = %v, want *RequestError on %s", err, tt.field)
			}
		})
	}
}

func TestPollHandsOutQueuedAtOnceAndBusy(t *testing.T) {
	r, _, _ := newRouter(t, nil) // no catalog: any resource
	markOnline(t, r, police)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			_, err := r.Lookup(context.Background(), police, "ANY", []string{string(rune('a' + i))}, time.Hour)
			errs <- err
		}()
	}
	for {
		r.mu.Lock()
		n := len(r.depts[police].queue)
		r.mu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// MaxPending is 3: a fourth is refused.
	var be *BusyError
	if _, err := r.Lookup(context.Background(), police, "ANY", []string{"d"}, time.Hour); !errors.As(err, &be) || be.Dept != police {
		t.Fatalf("fourth Lookup = %v, want *BusyError", err)
	}
	// A long poll returns at once with at most its limit.
	first, err := r.Poll(context.Background(), police, "a1", nil, 2, time.Hour)
	if err != nil || len(first) != 2 {
		t.Fatalf("Poll(limit 2) = %v, %v", first, err)
	}
	rest, err := r.Poll(context.Background(), police, "a2", nil, 10, time.Hour)
	if err != nil || len(rest) != 1 {
		t.Fatalf("second Poll = %v, %v", rest, err)
	}
	// Answers from another department are ignored; the right ones count.
	all := append(first, rest...)
	var foreign []Answer
	for _, q := range all {
		foreign = append(foreign, Answer{ID: q.ID, Found: false})
	}
	if err := r.Complete(market, foreign); err != nil {
		t.Fatal(err)
	}
	if got := ignored(t, r); got != 3 {
		t.Fatalf("ignored = %v, want 3", got)
	}
	if err := r.Complete(police, foreign); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// A second answer to the same id is late: ignored.
	if err := r.Complete(police, foreign[:1]); err != nil {
		t.Fatal(err)
	}
	if got := ignored(t, r); got != 4 {
		t.Fatalf("ignored = %v, want 4", got)
	}
}

func TestPollWaitsAndEndsWithContext(t *testing.T) {
	r, _, _ := newRouter(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Poll(ctx, police, "a1", nil, 1, time.Hour)
		done <- err
	}()
	for r.Online(police, "") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll = %v, want context.Canceled", err)
	}
	// A poll with no work and no wait returns an empty list, not nil.
	reqs, err := r.Poll(context.Background(), police, "a1", nil, 1, 0)
	if err != nil || reqs == nil || len(reqs) != 0 {
		t.Fatalf("Poll = %#v, %v; want an empty list", reqs, err)
	}
}

func FuzzComplete(f *testing.F) {
	f.Add(true, []byte(`{"id":"k","n":1}`), "")
	f.Add(true, []byte(`[]`), "")
	f.Add(false, []byte(`null`), "")
	f.Add(false, []byte(``), "boom")
	f.Fuzz(func(t *testing.T, found bool, data []byte, agentErr string) {
		r, err := New(Config{Catalog: testCatalog(t), Timeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		markOnline(t, r, police)
		done := make(chan error, 1)
		var res Result
		go func() {
			var err error
			res, err = r.Lookup(context.Background(), police, "POP", []string{"k"}, time.Hour)
			done <- err
		}()
		var reqs []Request
		for len(reqs) == 0 {
			reqs, _ = r.Poll(context.Background(), police, "a1", nil, 1, time.Hour)
		}
		a := Answer{ID: reqs[0].ID, Found: found, Data: data, Error: agentErr}
		cerr := r.Complete(police, []Answer{a})
		err = <-done
		var ae *AgentError
		switch {
		case agentErr != "":
			if !errors.As(err, &ae) {
				t.Fatalf("agent error answer gave %v", err)
			}
		case cerr != nil:
			if !errors.As(err, &ae) {
				t.Fatalf("Complete refused the answer (%v) but Lookup gave %v", cerr, err)
			}
		case err != nil:
			t.Fatalf("Complete accepted but Lookup failed: %v", err)
		case res.Found:
			var m map[string]json.RawMessage
			if json.Unmarshal(res.Data, &m) != nil || len(m) != 2 {
				t.Fatalf("accepted row %s is not an object of the 2 fields", res.Data)
			}
		}
	})
}

// metricValue is the value (a histogram's count) of the series of name
// whose label has the value given.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					switch {
					case m.Counter != nil:
						return m.GetCounter().GetValue()
					case m.Gauge != nil:
						return m.GetGauge().GetValue()
					case m.Histogram != nil:
						return float64(m.GetHistogram().GetSampleCount())
					}
				}
			}
		}
	}
	return 0
}

func ignored(t *testing.T, r *Router) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.m.ignored)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 {
		t.Fatalf("gather ignored: %v", err)
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}

func TestCloseEndsPolls(t *testing.T) {
	r, _, _ := newRouter(t, nil)
	done := make(chan []Request, 1)
	go func() {
		reqs, err := r.Poll(context.Background(), police, "a1", nil, 1, time.Hour)
		if err != nil {
			t.Error(err)
		}
		done <- reqs
	}()
	for r.Online(police, "") == 0 {
		time.Sleep(time.Millisecond)
	}
	r.Close()
	r.Close() // twice is fine
	if reqs := <-done; len(reqs) != 0 {
		t.Fatalf("Poll after Close = %v", reqs)
	}
	if reqs, err := r.Poll(context.Background(), police, "a1", nil, 1, time.Hour); err != nil || len(reqs) != 0 {
		t.Fatalf("Poll on a closed router = %v, %v; want none at once", reqs, err)
	}
}

// A department with one agent per database: each lookup goes to an agent
// that serves its resource, and a resource nobody serves is offline.
func TestPollRoutesByResource(t *testing.T) {
	r, _, _ := newRouter(t, nil)
	if _, err := r.Poll(context.Background(), police, "pop-agent", []string{"POP"}, 1, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Poll(context.Background(), police, "car-agent", []string{"CAR"}, 1, 0); err != nil {
		t.Fatal(err)
	}
	var off *OfflineError
	if _, err := r.Lookup(context.Background(), police, "GUN", []string{"k"}, time.Hour); !errors.As(err, &off) {
		t.Fatalf("Lookup of a resource no agent serves = %v, want *OfflineError", err)
	}
	if n := r.Online(police, "POP"); n != 1 {
		t.Fatalf("Online(POP) = %d, want 1", n)
	}
	errs := make(chan error, 2)
	for _, res := range []string{"POP", "CAR"} {
		go func() {
			_, err := r.Lookup(context.Background(), police, res, []string{"k"}, time.Hour)
			errs <- err
		}()
	}
	got := map[string]string{}
	for len(got) < 2 {
		for _, ag := range []struct{ id, res string }{{"pop-agent", "POP"}, {"car-agent", "CAR"}} {
			reqs, err := r.Poll(context.Background(), police, ag.id, []string{ag.res}, 10, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range reqs {
				if q.Resource != ag.res {
					t.Fatalf("agent %s serving %s got a lookup of %s", ag.id, ag.res, q.Resource)
				}
				got[q.Resource] = ag.id
				if err := r.Complete(police, []Answer{{ID: q.ID}}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
