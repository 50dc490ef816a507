package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSchemaVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		created := time.Date(2025, 1, 2, 3, 4, 5, 678901000, time.UTC)
		adds := []SchemaVersion{
			{Resource: "pop", Version: 2, Fingerprint: "fp2", Fields: json.RawMessage(`[{"name":"姓名","type":"string"}]`), CreatedAt: created},
			{Resource: "pop", Version: 1, Fingerprint: "fp1", Fields: json.RawMessage(`[]`)},
			{Resource: "pop2", Version: 1, Fingerprint: "other"},
		}
		for _, v := range adds {
			if err := db.AddSchemaVersion(ctx, v); err != nil {
				t.Fatalf("AddSchemaVersion(%s v%d): %v", v.Resource, v.Version, err)
			}
		}
		err := db.AddSchemaVersion(ctx, SchemaVersion{Resource: "pop", Version: 1, Fingerprint: "again"})
		if !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), `"pop"`) {
			t.Fatalf("duplicate AddSchemaVersion error = %v, want ErrDuplicate naming the resource", err)
		}
		got, err := db.SchemaVersions(ctx, "pop")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Version != 1 || got[1].Version != 2 || got[0].Fingerprint != "fp1" ||
			string(got[1].Fields) != `[{"name":"姓名","type":"string"}]` || !got[1].CreatedAt.Equal(created) ||
			got[0].CreatedAt.IsZero() || got[0].Resource != "pop" {
			t.Fatalf("SchemaVersions(pop) = %+v", got)
		}
		if got, err := db.SchemaVersions(ctx, "pop2"); err != nil || len(got) != 1 || got[0].Fields != nil {
			t.Fatalf("SchemaVersions(pop2) = %+v, %v (want one version with nil fields)", got, err)
		}
		if got, err := db.SchemaVersions(ctx, "none"); err != nil || len(got) != 0 {
			t.Fatalf("SchemaVersions(none) = %+v, %v", got, err)
		}
		for _, bad := range []struct {
			v    SchemaVersion
			want string
		}{
			{SchemaVersion{Version: 1, Fingerprint: "f"}, "resource is empty"},
			{SchemaVersion{Resource: "r", Version: 0, Fingerprint: "f"}, "version must be at least 1"},
			{SchemaVersion{Resource: "r", Version: 1}, "fingerprint is empty"},
			{SchemaVersion{Resource: "r", Version: 1, Fingerprint: "f", Fields: json.RawMessage(`{`)}, "fields is not valid JSON"},
		} {
			if err := db.AddSchemaVersion(ctx, bad.v); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("AddSchemaVersion(%+v) error = %v, want %q", bad.v, err, bad.want)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := time.Date(2025, 5, 1, 0, 0, 0, 1000, time.UTC)
		toks := []Token{
			{ID: "t1", Name: "管理员", Role: RoleAdmin, Hash: "h1", CreatedAt: t0},
			{ID: "t2", Name: "公安局", Dept: "11230000MB0000001X", Role: RoleDept, Hash: "h2", CreatedAt: t0.Add(time.Second)},
			{ID: "t3", Name: "case", Dept: "D", Role: RoleDept, Hash: "H1", CreatedAt: t0.Add(2 * time.Second)},
		}
		for _, tok := range toks {
			if err := db.CreateToken(ctx, tok); err != nil {
				t.Fatalf("CreateToken(%s): %v", tok.ID, err)
			}
		}
		for _, dup := range []Token{
			{ID: "t1", Role: RoleAdmin, Hash: "other"},
			{ID: "t9", Role: RoleAdmin, Hash: "h2"},
		} {
			if err := db.CreateToken(ctx, dup); !errors.Is(err, ErrDuplicate) {
				t.Errorf("CreateToken(%+v) error = %v, want ErrDuplicate", dup, err)
			}
		}
		for _, bad := range []struct {
			tok  Token
			want string
		}{
			{Token{Role: RoleAdmin, Hash: "x"}, "id is empty"},
			{Token{ID: "b", Role: "root", Hash: "x"}, `role "root"`},
			{Token{ID: "b", Role: RoleDept, Hash: "x"}, "dept is empty"},
			{Token{ID: "b", Role: RoleAdmin}, "hash is empty"},
		} {
			if err := db.CreateToken(ctx, bad.tok); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("CreateToken(%+v) error = %v, want %q", bad.tok, err, bad.want)
			}
		}

		got, ok, err := db.TokenByHash(ctx, "h2")
		if err != nil || !ok {
			t.Fatalf("TokenByHash(h2) = %v, %v", ok, err)
		}
		if got.ID != "t2" || got.Dept != toks[1].Dept || got.Role != RoleDept || got.Name != "公安局" ||
			!got.CreatedAt.Equal(toks[1].CreatedAt) || got.RevokedAt != nil {
			t.Fatalf("TokenByHash(h2) = %+v", got)
		}
		if got, ok, err := db.TokenByHash(ctx, "H1"); err != nil || !ok || got.ID != "t3" {
			t.Fatalf("TokenByHash(H1) = %+v, %v, %v (hashes are case sensitive)", got, ok, err)
		}
		if _, ok, err := db.TokenByHash(ctx, "nope"); err != nil || ok {
			t.Fatalf("TokenByHash(nope) = %v, %v", ok, err)
		}

		if err := db.RevokeToken(ctx, "t2"); err != nil {
			t.Fatal(err)
		}
		first, _, err := db.TokenByHash(ctx, "h2")
		if err != nil || first.RevokedAt == nil {
			t.Fatalf("after revoke: %+v, %v", first, err)
		}
		if err := db.RevokeToken(ctx, "t2"); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
		second, _, _ := db.TokenByHash(ctx, "h2")
		if second.RevokedAt == nil || !second.RevokedAt.Equal(*first.RevokedAt) {
			t.Fatalf("second revoke changed the time: %v -> %v", first.RevokedAt, second.RevokedAt)
		}
		if err := db.RevokeToken(ctx, "t404"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("RevokeToken(unknown) = %v, want ErrNotFound", err)
		}

		list, err := db.ListTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tok := range list {
			ids = append(ids, tok.ID)
			if (tok.RevokedAt != nil) != (tok.ID == "t2") {
				t.Errorf("token %s revoked = %v", tok.ID, tok.RevokedAt)
			}
		}
		if fmt.Sprint(ids) != "[t1 t2 t3]" {
			t.Fatalf("ListTokens ids = %v, want [t1 t2 t3]", ids)
		}
	})
}

func TestAgents(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		reg := time.Date(2025, 6, 1, 10, 0, 0, 500000000, time.UTC)
		if err := db.UpsertAgent(ctx, AgentStatus{AgentID: "b-agent", Dept: "D2", Version: "v1",
			Resources: json.RawMessage(`["r1"]`), RegisteredAt: reg, LastHeartbeat: reg}); err != nil {
			t.Fatal(err)
		}
		// Unset times on a new agent become now.
		if err := db.UpsertAgent(ctx, AgentStatus{AgentID: "a-agent", Dept: "D1", Version: "v1"}); err != nil {
			t.Fatal(err)
		}
		// A heartbeat: no resources, no registration time: both kept.
		hb := reg.Add(time.Minute)
		long := strings.Repeat("错", maxLastErrorBytes) // 3 bytes each: truncated
		if err := db.UpsertAgent(ctx, AgentStatus{AgentID: "b-agent", Dept: "D2", Version: "v2",
			LastError: long, LastHeartbeat: hb}); err != nil {
			t.Fatal(err)
		}
		list, err := db.ListAgents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].AgentID != "a-agent" || list[1].AgentID != "b-agent" {
			t.Fatalf("ListAgents = %+v", list)
		}
		a, b := list[0], list[1]
		if a.RegisteredAt.IsZero() || a.LastHeartbeat.IsZero() || a.Resources != nil {
			t.Errorf("new agent without times = %+v", a)
		}
		if b.Version != "v2" || string(b.Resources) != `["r1"]` || !b.RegisteredAt.Equal(reg) || !b.LastHeartbeat.Equal(hb) {
			t.Errorf("after heartbeat = %+v", b)
		}
		if len(b.LastError) > maxLastErrorBytes || len(b.LastError) < maxLastErrorBytes-3 || !strings.HasPrefix(long, b.LastError) {
			t.Errorf("last error kept %d bytes, want the first ≤%d bytes on a character boundary", len(b.LastError), maxLastErrorBytes)
		}
		// A re-registration replaces resources and the registration time.
		reg2 := hb.Add(time.Hour)
		if err := db.UpsertAgent(ctx, AgentStatus{AgentID: "b-agent", Dept: "D2", Version: "v3",
			Resources: json.RawMessage(`["r1","r2"]`), RegisteredAt: reg2}); err != nil {
			t.Fatal(err)
		}
		list, _ = db.ListAgents(ctx)
		if b := list[1]; string(b.Resources) != `["r1","r2"]` || !b.RegisteredAt.Equal(reg2) || !b.LastHeartbeat.Equal(hb) || b.LastError != "" {
			t.Errorf("after re-registration = %+v", b)
		}
		for _, bad := range []struct {
			a    AgentStatus
			want string
		}{
			{AgentStatus{Dept: "D"}, "agent id is empty"},
			{AgentStatus{AgentID: "x"}, "dept is empty"},
			{AgentStatus{AgentID: "x", Dept: "D", Resources: json.RawMessage(`[`)}, "resources is not valid JSON"},
		} {
			if err := db.UpsertAgent(ctx, bad.a); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("UpsertAgent(%+v) error = %v, want %q", bad.a, err, bad.want)
			}
		}
	})
}

func TestDeadLetters(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		big := bytes.Repeat([]byte{0, 1, 2, 0xff}, MaxDeadLetterPayload) // 4x the limit
		dls := []DeadLetter{
			{Topic: "tongban.ingest", Partition: 0, Offset: 7, Resource: "pop", Dept: "D1", BatchID: "b1",
				Reason: "arrow: 不能解码", Headers: json.RawMessage(`{"tb-resource":"pop"}`), Payload: []byte("garbage")},
			{Topic: "tongban.ingest", Partition: 1, Offset: 7, Resource: "bad\xffname", Reason: "fingerprint", Payload: big},
			{Topic: "tongban.ingest", Partition: 0, Offset: 8, Reason: "no payload"},
		}
		for _, d := range dls {
			if err := db.AddDeadLetter(ctx, d); err != nil {
				t.Fatalf("AddDeadLetter(%d@%d): %v", d.Partition, d.Offset, err)
			}
		}
		// Redelivery of the same message: recorded once.
		again := dls[0]
		again.Reason = "second time"
		if err := db.AddDeadLetter(ctx, again); err != nil {
			t.Fatal(err)
		}
		n, err := db.CountDeadLetters(ctx)
		if err != nil || n != 3 {
			t.Fatalf("CountDeadLetters = %d, %v; want 3", n, err)
		}
		list, err := db.ListDeadLetters(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 {
			t.Fatalf("ListDeadLetters returned %d, want 3", len(list))
		}
		if list[0].Offset != 8 || list[1].Partition != 1 || list[2].Offset != 7 || list[2].Partition != 0 {
			t.Fatalf("ListDeadLetters order = %+v, want newest first", list)
		}
		if !(list[0].ID > list[1].ID && list[1].ID > list[2].ID) {
			t.Errorf("ids not descending: %d %d %d", list[0].ID, list[1].ID, list[2].ID)
		}
		first := list[2]
		if first.Reason != dls[0].Reason || string(first.Payload) != "garbage" || string(first.Headers) != `{"tb-resource":"pop"}` ||
			first.Resource != "pop" || first.Dept != "D1" || first.BatchID != "b1" || first.Topic != "tongban.ingest" || first.ReceivedAt.IsZero() {
			t.Errorf("first dead letter = %+v", first)
		}
		if got := list[1]; !bytes.Equal(got.Payload, big[:MaxDeadLetterPayload]) || got.Resource != "bad\uFFFDname" {
			t.Errorf("second dead letter: payload %d bytes (want the first %d), resource %q", len(got.Payload), MaxDeadLetterPayload, got.Resource)
		}
		if got := list[0]; got.Payload != nil || got.Headers != nil {
			t.Errorf("third dead letter: payload %v headers %v, want nil", got.Payload, got.Headers)
		}
		if l, err := db.ListDeadLetters(ctx, 1); err != nil || len(l) != 1 || l[0].Offset != 8 {
			t.Errorf("ListDeadLetters(1) = %+v, %v", l, err)
		}
		if _, err := db.ListDeadLetters(ctx, 0); err == nil {
			t.Error("ListDeadLetters(0): want an error")
		}
		for _, bad := range []struct {
			d    DeadLetter
			want string
		}{
			{DeadLetter{}, "topic is empty"},
			{DeadLetter{Topic: strings.Repeat("t", 250)}, "topic is 250 bytes"},
			{DeadLetter{Topic: "t", Headers: json.RawMessage(`{"a"`)}, "headers is not valid JSON"},
		} {
			if err := db.AddDeadLetter(ctx, bad.d); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("AddDeadLetter(%+v) error = %v, want %q", bad.d.Topic, err, bad.want)
			}
		}
	})
}
