package store

import (
	"context"
	"testing"
	"time"
)

// TestUpsertGuard checks the version guard of the multi-row upsert itself
// (ApplyRecords decides before writing; the guard is the backstop): an older
// row leaves the stored row untouched, an equal or newer one replaces every
// column.
func TestUpsertGuard(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		if _, err := db.ApplyRecords(ctx, []Record{
			live("G", "older", 10, `{"v":"stored"}`),
			live("G", "equal", 10, `{"v":"stored"}`),
			live("G", "newer", 10, `{"v":"stored"}`),
		}); err != nil {
			t.Fatal(err)
		}
		at := formatDBTime(time.Now())
		q := `INSERT INTO source_records (` + recordColumns + `) VALUES
 (?,?,?,?,?,?,?,?,?), (?,?,?,?,?,?,?,?,?), (?,?,?,?,?,?,?,?,?)` + db.d.upsertRecordsSuffix
		if _, err := db.db.ExecContext(ctx, q,
			"G", "older", testDept, 9, 1, nil, "x-9", at, nil,
			"G", "equal", testDept, 10, 0, `{"v":"equal"}`, "x-10", at, "s-equal",
			"G", "newer", testDept, 11, 1, nil, "x-11", at, nil,
		); err != nil {
			t.Fatal(err)
		}
		checkStored(t, db, []wantRecord{
			{"G", "older", 10, false, `{"v":"stored"}`, "b-10"},
			{"G", "equal", 10, false, `{"v":"equal"}`, "x-10"},
			{"G", "newer", 11, true, "", "x-11"},
		})
	})
}
