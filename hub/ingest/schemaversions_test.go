package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
)

func TestSyncSchemas(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	base := *testResource(t)
	other := *testResource(t)
	other.Code = "TEST-OTHER-001"

	added := func(s schemas.Schema) catalog.Resource { r := base; r.Schema = s; return r }
	withEmail := testSchema(t)
	withEmail.Fields = append(withEmail.Fields, schemas.Field{Name: "email", Type: mustType(t, "string"), Nullable: true})
	typeChanged := withEmail
	typeChanged.Fields = append([]schemas.Field(nil), withEmail.Fields...)
	typeChanged.Fields[2].Type = mustType(t, "string")
	removedRequired := withEmail
	removedRequired.Fields = append([]schemas.Field(nil), withEmail.Fields[1:]...)

	steps := []struct {
		name      string
		resources []catalog.Resource
		want      []SyncResult // Resource, Version, Added
		err       string
	}{
		{"first start", []catalog.Resource{base, other}, []SyncResult{{Resource: base.Code, Version: 1, Added: true}, {Resource: other.Code, Version: 1, Added: true}}, ""},
		{"restart, nothing changed", []catalog.Resource{base, other}, []SyncResult{{Resource: base.Code, Version: 1}, {Resource: other.Code, Version: 1}}, ""},
		{"nullable field added", []catalog.Resource{added(withEmail)}, []SyncResult{{Resource: base.Code, Version: 2, Added: true}}, ""},
		{"type changed", []catalog.Resource{added(typeChanged), other}, []SyncResult{{Resource: other.Code, Version: 1}},
			`resource TEST-PEOPLE-001 (resources/test.yaml): schema version 2 recorded on`},
		{"required field removed", []catalog.Resource{added(removedRequired)}, nil, `required field "citizen_id" was removed`},
		{"back to version 2", []catalog.Resource{added(withEmail)}, []SyncResult{{Resource: base.Code, Version: 2}}, ""},
	}
	for _, st := range steps {
		got, err := SyncSchemas(ctx, db, st.resources)
		if st.err == "" && err != nil || st.err != "" && (err == nil || !strings.Contains(err.Error(), st.err)) {
			t.Fatalf("%s: error %v, want %q", st.name, err, st.err)
		}
		if len(got) != len(st.want) {
			t.Fatalf("%s: results %+v", st.name, got)
		}
		for i, w := range st.want {
			if got[i].Resource != w.Resource || got[i].Version != w.Version || got[i].Added != w.Added || got[i].Fingerprint == "" {
				t.Fatalf("%s: result %d = %+v, want %+v", st.name, i, got[i], w)
			}
		}
	}
	if _, err := SyncSchemas(ctx, db, []catalog.Resource{added(typeChanged)}); err == nil || !strings.Contains(err.Error(), `field "age" changed type from int64 to string`) {
		t.Fatalf("type change error does not name the field: %v", err)
	}
	vs, err := db.SchemaVersions(ctx, base.Code)
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions %+v %v", vs, err)
	}
	for _, v := range vs {
		if _, err := DecodeFields(v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeFieldsRejects(t *testing.T) {
	s := testSchema(t)
	good, err := EncodeFields(s)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		v    store.SchemaVersion
		want string
	}{
		{store.SchemaVersion{Resource: "R", Version: 1, Fingerprint: s.Fingerprint()}, "no fields stored"},
		{store.SchemaVersion{Resource: "R", Version: 1, Fingerprint: s.Fingerprint(), Fields: []byte(`{"x":1}`)}, "stored fields"},
		{store.SchemaVersion{Resource: "R", Version: 1, Fingerprint: "ffff", Fields: good}, "not the recorded ffff"},
		{store.SchemaVersion{Resource: "R", Version: 1, Fingerprint: "x", Fields: []byte(`[{"name":"a","type":"nope"}]`)}, "unknown type"},
	}
	for _, c := range cases {
		if _, err := DecodeFields(c.v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.v.Fields, err, c.want)
		}
	}
}
