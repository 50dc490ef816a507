package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzApplyRecordsRoundTrip applies fuzzed records to a SQLite store and
// compares every read-back with a model of the apply rules: valid records
// round-trip byte for byte, invalid ones are refused and change nothing.
func FuzzApplyRecordsRoundTrip(f *testing.F) {
	f.Add("230102199001011234", `{"姓名":"张三"}`, int64(1), false)
	f.Add("k😀\x1f2", `{"a":[1,2,{"b":null}],"e":"\u0000"}`, int64(5), false)
	f.Add("k😀\x1f2", ``, int64(6), true)
	f.Add("k😀\x1f2", `{"back":1}`, int64(4), false)
	f.Add("bad\xff", `{}`, int64(1), false)
	f.Add("x", `[1]`, int64(1), false)
	f.Add("x", ` { "a" : "\ud83d\ude00" } `, int64(-3), false)
	f.Add("", `{}`, int64(0), false)

	db := openTestDB(f, DriverSQLite)
	ctx := context.Background()
	type state struct {
		version int64
		deleted bool
		data    string
	}
	model := map[string]state{}

	f.Fuzz(func(t *testing.T, key, data string, version int64, deleted bool) {
		rec := Record{Resource: "F", Key: key, Dept: "D", Version: version, Deleted: deleted, Data: json.RawMessage(data)}
		valid := key != "" && utf8.ValidString(key) && utf8.RuneCountInString(key) <= maxKeyLen
		if !deleted {
			trimmed := strings.TrimLeft(data, " \t\r\n")
			valid = valid && utf8.ValidString(data) && json.Valid([]byte(data)) && strings.HasPrefix(trimmed, "{")
		}
		res, err := db.ApplyRecords(ctx, []Record{rec})
		if valid != (err == nil) {
			t.Fatalf("ApplyRecords(%q, %q) error = %v, want valid=%v", key, data, err, valid)
		}
		prev, had := model[key]
		if err == nil {
			applied := !had || version >= prev.version
			if applied != (res.Applied == 1) || res.Applied+res.Skipped != 1 {
				t.Fatalf("ApplyRecords = %+v, want applied=%v (stored %+v, had %v)", res, applied, prev, had)
			}
			if applied {
				st := state{version: version, deleted: deleted}
				if !deleted {
					st.data = data
				}
				model[key] = st
			}
		}
		want, ok := model[key]
		got, found, err := db.GetRecord(ctx, "F", key)
		if err != nil {
			t.Fatalf("GetRecord(%q): %v", key, err)
		}
		if found != ok {
			t.Fatalf("GetRecord(%q) found = %v, want %v", key, found, ok)
		}
		if ok && (got.Key != key || got.Version != want.version || got.Deleted != want.deleted ||
			string(got.Data) != want.data || (got.Data == nil) != want.deleted) {
			t.Fatalf("GetRecord(%q) = {%d %v %q}, want %+v", key, got.Version, got.Deleted, got.Data, want)
		}
	})
}

// FuzzParseDBTime: stored-time parsing never panics, and whatever it accepts
// formats back to a string that parses to the same instant.
func FuzzParseDBTime(f *testing.F) {
	f.Add("2025-01-02 03:04:05.678901", int64(0))
	f.Add("2025-01-02 03:04:05", int64(1735787045678901))
	f.Add("9999-12-31 23:59:59.999999", int64(-1))
	f.Add("2025-13-40 99:00:00", int64(253402300799999999))
	f.Add("", int64(-30610224000000000))
	f.Fuzz(func(t *testing.T, s string, micros int64) {
		if tm, err := parseDBTime(s); err == nil {
			back, err := parseDBTime(formatDBTime(tm))
			if err != nil || !back.Equal(tm.Truncate(time.Microsecond)) {
				t.Fatalf("parse(format(parse(%q))) = %v, %v; want %v", s, back, err, tm)
			}
		}
		tm := time.UnixMicro(micros).UTC()
		arg, err := timeArg("t", tm, time.Now())
		if y := tm.Year(); (y >= 1000 && y <= 9999) != (err == nil) {
			t.Fatalf("timeArg(%v) error = %v", tm, err)
		}
		if err == nil {
			back, err := parseDBTime(arg)
			if err != nil || !back.Equal(tm) {
				t.Fatalf("parse(timeArg(%v)) = %v, %v", tm, back, err)
			}
		}
	})
}

// FuzzSQLitePath: the sqlite DSN check never panics and accepts only plain paths.
func FuzzSQLitePath(f *testing.F) {
	for _, s := range []string{"/var/lib/tongban/hub.db", "hub.db?x=1", "file:hub.db", ":memory:", "", " ", "数据/hub.db", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		p, err := sqlitePath(dsn)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if p != dsn || strings.TrimSpace(p) == "" || strings.ContainsAny(p, "?\x00") || strings.HasPrefix(p, "file:") || strings.HasPrefix(p, ":memory:") {
			t.Fatalf("sqlitePath(%q) accepted %q", dsn, p)
		}
	})
}
