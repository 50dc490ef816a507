package hubclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/schemas"
)

const resourceJSON = `{"code":"PS-POP-001","name":"人口","provider":"D1","subject":{"type":"person","field":"citizen_id"},
"primary_key":["citizen_id"],"fields":[{"name":"citizen_id","type":"string","nullable":false},{"name":"amt","type":"decimal(10,2)","nullable":true}],
"share_type":"unconditional","open_type":"closed","update_cycle":"daily","format":"table","schema_version":4,"fingerprint":"abc"}`

func TestRegister(t *testing.T) {
	var got RegisterRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Path != "/api/v1/agents/register" || r.Method != http.MethodPost {
			http.Error(w, `{"error":"no"}`, http.StatusUnauthorized)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		_, _ = io.WriteString(w, `{"resources":[`+resourceJSON+`]}`)
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/", "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := c.Register(context.Background(), RegisterRequest{AgentID: "a1", Dept: "D1", Version: "v", Resources: []string{"PS-POP-001"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.AgentID != "a1" || got.Dept != "D1" || len(got.Resources) != 1 {
		t.Errorf("request %+v", got)
	}
	d := defs[0]
	if d.Resource.Code != "PS-POP-001" || d.SchemaVersion != 4 || d.Fingerprint != "abc" || len(d.Resource.Schema.Fields) != 2 ||
		d.Resource.Schema.Fields[1].Type != (schemas.Type{Kind: schemas.Decimal, Precision: 10, Scale: 2}) || d.SchemaFingerprint() != "abc" {
		t.Errorf("definition %+v", d)
	}
	// The cache form reads back the same.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Definition
	if err := json.Unmarshal(b, &back); err != nil || back.SchemaVersion != 4 || back.Fingerprint != "abc" || back.Resource.Schema.Fingerprint() != d.Resource.Schema.Fingerprint() {
		t.Errorf("round trip %+v, %v", back, err)
	}

	if _, err := c.Register(context.Background(), RegisterRequest{Resources: []string{"PS-POP-001", "OTHER-1"}}); err == nil || !strings.Contains(err.Error(), "OTHER-1") {
		t.Errorf("missing definition: %v", err)
	}
}

func TestErrors(t *testing.T) {
	status := http.StatusForbidden
	body := `{"error":"resource X-1 is not provided by the department","field":"resources"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "tok", nil)
	_, err := c.Register(context.Background(), RegisterRequest{Resources: []string{"X-1"}})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 403 || se.Field != "resources" || !IsPermanent(err) || !strings.Contains(err.Error(), "not provided") {
		t.Fatalf("403: %v", err)
	}
	status, body = http.StatusBadGateway, "<html>bad gateway</html>"
	err = c.SendHeartbeat(context.Background(), Heartbeat{AgentID: "a"})
	if !errors.As(err, &se) || se.Status != 502 || IsPermanent(err) || !strings.Contains(err.Error(), "bad gateway") {
		t.Fatalf("502: %v", err)
	}
	status, body = http.StatusOK, "not json"
	if _, err := c.Keys(context.Background(), "X-1", "", 10); err == nil || !strings.Contains(err.Error(), "not the expected JSON") {
		t.Fatalf("garbage answer: %v", err)
	}
	srv.Close()
	if err := c.SendHeartbeat(context.Background(), Heartbeat{}); err == nil || IsPermanent(err) {
		t.Fatalf("unreachable hub: %v", err)
	}
	for _, bad := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := New(bad, "t", nil); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

func TestKeysAndHeartbeat(t *testing.T) {
	var hb Heartbeat
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/resources/PS-POP-001/keys":
			if r.URL.Query().Get("after") != "a\x1fb" || r.URL.Query().Get("limit") != "2" {
				http.Error(w, `{"error":"bad query"}`, 400)
				return
			}
			_, _ = io.WriteString(w, `{"keys":[{"key":"c","version":5},{"key":"d","version":6}],"next_after":"d"}`)
		case "/api/v1/agents/heartbeat":
			_ = json.NewDecoder(r.Body).Decode(&hb)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "tok", nil)
	p, err := c.Keys(context.Background(), "PS-POP-001", "a\x1fb", 2)
	if err != nil || len(p.Keys) != 2 || p.Keys[1] != (KeyVersion{Key: "d", Version: 6}) || p.Next != "d" {
		t.Fatalf("keys %+v, %v", p, err)
	}
	want := Heartbeat{AgentID: "a", Dept: "D", Version: "v", Resources: []ResourceStatus{{Code: "X", Phase: "snapshot", RowsRead: 3, LagSeconds: 1.5, LastError: "kafka: down"}}}
	if err := c.SendHeartbeat(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	if hb.Resources[0] != want.Resources[0] || hb.AgentID != "a" {
		t.Fatalf("heartbeat %+v", hb)
	}
}

func TestCheck(t *testing.T) {
	var d Definition
	if err := json.Unmarshal([]byte(resourceJSON), &d); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*catalog.Resource)
		want string
	}{
		{"no code", func(r *catalog.Resource) { r.Code = "" }, "without a resource code"},
		{"no key", func(r *catalog.Resource) { r.PrimaryKey = nil }, "no primary key"},
		{"key not a field", func(r *catalog.Resource) { r.PrimaryKey = []string{"x"} }, `primary key field "x"`},
		{"subject not a field", func(r *catalog.Resource) { r.Subject.Field = "y" }, `subject field "y"`},
		{"no fields", func(r *catalog.Resource) { r.Schema.Fields = nil }, "at least one field"},
	}
	for _, tt := range tests {
		c := d
		c.Resource.Schema.Fields = append([]schemas.Field(nil), d.Resource.Schema.Fields...)
		tt.edit(&c.Resource)
		if err := c.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func FuzzDefinition(f *testing.F) {
	f.Add([]byte(resourceJSON))
	f.Add([]byte(`{"code":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Definition
		if err := json.Unmarshal(data, &d); err != nil {
			return
		}
		if d.Check() != nil {
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Definition
		if err := json.Unmarshal(b, &back); err != nil || back.Check() != nil || back.SchemaFingerprint() != d.SchemaFingerprint() {
			t.Fatalf("round trip of %s: %v", b, err)
		}
	})
}
