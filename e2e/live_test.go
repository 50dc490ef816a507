package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// liveAnswer is the hub's answer to GET /api/v1/live/lookup/{code}.
type liveAnswer struct {
	Found   bool           `json:"found"`
	Dept    string         `json:"dept"`
	Data    map[string]any `json:"data"`
	Version int64          `json:"version"`
	Error   string         `json:"error"`
	Field   string         `json:"field"`
}

// liveLookup asks the hub for one row of the live resource; the hub routes
// the call to the department's agent.
func (s *spine) liveLookup(key string) (int, liveAnswer, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.hubAddr+"/api/v1/live/lookup/"+resCode+"?key="+url.QueryEscape(key), nil)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	// Far above the hub's lookup timeout: the call must come back on its own.
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, liveAnswer{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out liveAnswer
	if err := json.Unmarshal(body, &out); err != nil {
		return resp.StatusCode, out, fmt.Errorf("answer is not JSON: %s", body)
	}
	return resp.StatusCode, out, nil
}

// A resource marked live is answered by the agent from MariaDB at the time
// of the call; with the agent killed the call fails cleanly, naming the
// department.
func TestLiveLookupThroughAgent(t *testing.T) {
	const rows = 50
	s := newSpine(t, spineOpts{rows: rows})
	writeFile(t, filepath.Join(s.dir, "catalog/resources/people.yaml"), catalogResource+"live: true\n")
	s.startHub()
	if code, a, _ := s.liveLookup("1"); code == http.StatusNotFound && a.Field == "path" {
		t.Fatal("the hub does not serve /api/v1/live: hub/server does not create the live router")
	}
	s.startAgent()

	// The agent polls once it has registered: until then the department is offline (503).
	var got liveAnswer
	waitFor(t, "a live answer for key 5", 60*time.Second, func() (bool, string) {
		if s.agent.exited() {
			t.Fatalf("agent exited: %s", s.agent.tail(30))
		}
		code, a, err := s.liveLookup("5")
		got = a
		return code == http.StatusOK, fmt.Sprint(code, " ", a.Error, err)
	})
	if !got.Found || got.Dept != deptCode || got.Version <= 0 {
		t.Fatalf("lookup of key 5 = %+v", got)
	}
	for f, w := range genRow(4).want() {
		if g := got.Data[f]; g != w {
			t.Errorf("field %s = %#v, want %#v (the MariaDB row)", f, g, w)
		}
	}
	if len(got.Data) != len(genRow(4).want()) {
		t.Errorf("data has %d fields, want %d: %v", len(got.Data), len(genRow(4).want()), got.Data)
	}

	// The share endpoint routes a live resource to the agent too: the
	// department reads a row with its purpose and item code.
	shareURL := "http://" + s.hubAddr + "/api/v1/share/" + resCode + "?key=5&purpose=" + url.QueryEscape("核验") + "&item_code=E2E-001"
	req, _ := http.NewRequest(http.MethodGet, shareURL, nil)
	req.Header.Set("Authorization", "Bearer "+s.deptToken)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var shared struct {
		Records []struct {
			Key  string         `json:"key"`
			Data map[string]any `json:"data"`
		} `json:"records"`
		AuditSeq int64 `json:"audit_seq"`
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(body, &shared); err != nil || resp.StatusCode != http.StatusOK || len(shared.Records) != 1 ||
		shared.Records[0].Data["name"] != genRow(4).want()["name"] || shared.AuditSeq == 0 {
		t.Fatalf("share call of the live resource: %d %s", resp.StatusCode, body)
	}

	// Live means now: a change at the source shows at once, before any sync.
	if _, err := s.db.Exec("UPDATE people SET name = ? WHERE id = 7", "改名后"); err != nil {
		t.Fatal(err)
	}
	if code, a, err := s.liveLookup("7"); err != nil || code != http.StatusOK || !a.Found || a.Data["name"] != "改名后" {
		t.Fatalf("lookup after the update = %d %+v %v; want the new name", code, a, err)
	}

	// A key that is not in the table, and a key of the wrong shape.
	if code, a, err := s.liveLookup(fmt.Sprint(rows + 1000)); err != nil || code != http.StatusOK || a.Found || a.Data != nil {
		t.Fatalf("lookup of a missing key = %d %+v %v; want found false", code, a, err)
	}
	if code, a, _ := s.liveLookup("1\x1f2"); code != http.StatusBadRequest || a.Field != "key" {
		t.Fatalf("lookup with two key parts = %d %+v; want 400 on key", code, a)
	}
	if code, a, _ := s.liveLookup("not-a-number"); code != http.StatusBadGateway || !strings.Contains(a.Error, deptCode) {
		t.Fatalf("lookup with a key the source cannot bind = %d %+v; want 502 naming the department", code, a)
	}

	// Agent gone: every call comes back (well within the client's 30 s)
	// with 503 (offline) or 504 (timeout), naming the department; once the
	// online window has passed it is 503 at once.
	s.agent.kill()
	code, a, err := s.liveLookup("5")
	if err != nil {
		t.Fatalf("lookup with the agent stopped did not come back: %v", err)
	}
	if (code != http.StatusServiceUnavailable && code != http.StatusGatewayTimeout) || !strings.Contains(a.Error, deptCode) {
		t.Fatalf("lookup with the agent stopped = %d %+v; want 503 or 504 naming %s", code, a, deptCode)
	}
	waitFor(t, "503 offline", 60*time.Second, func() (bool, string) {
		code, a, err := s.liveLookup("5")
		return code == http.StatusServiceUnavailable && strings.Contains(a.Error, "不在线"), fmt.Sprint(code, " ", a.Error, err)
	})
}
