package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestObjectionLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		at := time.Date(2026, 2, 13, 9, 30, 0, 0, time.UTC)
		file := func(subject, field, kind, filer, due string, at time.Time) Objection {
			t.Helper()
			o, err := db.FileObjection(ctx, Objection{SubjectType: "person", SubjectID: subject, Field: field, Reason: "地址有误 / wrong address",
				FilerKind: kind, FilerID: filer, FiledBy: "tok1", FiledAt: at, DecideDue: due},
				[]Notification{{Recipient: "bureau", Kind: "objection.filed", Message: "新异议 / new objection"}})
			if err != nil {
				t.Fatalf("file: %v", err)
			}
			return o
		}
		a := file("110101199003070014", "address", FilerDept, "D1", "2026-02-25", at)
		if a.Status != ObjectionPending || !a.MarkedAt.Equal(at) || !a.FiledAt.Equal(at) || a.DecideDue != "2026-02-25" || a.Due() != "2026-02-25" {
			t.Fatalf("filed = %+v", a)
		}
		b := file("110101199003070014", "name", FilerSubject, "110101199003070014", "2026-02-26", at.Add(time.Hour))
		c := file("11010119900307003X", "name", FilerDept, "D3", "2026-02-27", at.Add(2*time.Hour))

		// Forward a to D2; deciding it now is a wrong transition.
		fa, err := db.ForwardObjection(ctx, a.ID, ObjectionForward{To: "D2", VerifyDue: "2026-03-04", Actor: "admin:t0", Note: "请核实", At: at.Add(24 * time.Hour)},
			[]Notification{{Recipient: "D2", Kind: "objection.forwarded", Message: "请核实 / please verify"}})
		if err != nil {
			t.Fatal(err)
		}
		if fa.Status != ObjectionForwarded || fa.ForwardedTo != "D2" || fa.VerifyDue != "2026-03-04" || fa.Due() != "2026-03-04" {
			t.Fatalf("forwarded = %+v", fa)
		}
		if _, err := db.DecideObjection(ctx, a.ID, ObjectionDecision{Result: ResultUpheld, Actor: "admin:t0", At: at}, nil); !errors.Is(err, ErrObjectionStage) {
			t.Errorf("decide forwarded: err = %v, want ErrObjectionStage", err)
		}
		if _, err := db.ForwardObjection(ctx, a.ID, ObjectionForward{To: "D2", VerifyDue: "2026-03-04", Actor: "admin:t0", At: at}, nil); !errors.Is(err, ErrObjectionStage) {
			t.Errorf("forward twice: err = %v, want ErrObjectionStage", err)
		}
		if _, err := db.VerifyObjection(ctx, a.ID, ObjectionDecision{Result: ResultUpheld, Actor: "dept:D9", Dept: "D9", At: at}, nil); !errors.Is(err, ErrObjectionStage) {
			t.Errorf("verify by another dept: err = %v, want ErrObjectionStage", err)
		}
		if _, err := db.VerifyObjection(ctx, b.ID, ObjectionDecision{Result: ResultUpheld, Actor: "dept:D2", Dept: "D2", At: at}, nil); !errors.Is(err, ErrObjectionStage) {
			t.Errorf("verify pending: err = %v, want ErrObjectionStage", err)
		}
		if _, err := db.DecideObjection(ctx, 999, ObjectionDecision{Result: ResultUpheld, Actor: "admin:t0", At: at}, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("decide unknown: err = %v, want ErrNotFound", err)
		}
		if _, err := db.DecideObjection(ctx, b.ID, ObjectionDecision{Result: "maybe", Actor: "admin:t0", At: at}, nil); err == nil {
			t.Error("result maybe accepted")
		}

		// Overdue on 2026-02-27: b (due 02-26) only; a's verify stage runs to 03-04, c's decide stage to 02-27.
		over, err := db.ListObjections(ctx, ObjectionFilter{OverdueOn: "2026-02-27", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(over) != 1 || over[0].ID != b.ID {
			t.Errorf("overdue on 02-27 = %+v, want b", over)
		}
		counts, err := db.CountObjections(ctx, "2026-03-05")
		if err != nil {
			t.Fatal(err)
		}
		if counts.Open[ObjectionPending] != 2 || counts.Open[ObjectionForwarded] != 1 || counts.Overdue["decide"] != 2 || counts.Overdue["verify"] != 1 {
			t.Errorf("counts on 03-05 = %+v", counts)
		}

		va, err := db.VerifyObjection(ctx, a.ID, ObjectionDecision{Result: ResultRejected, Note: "数据无误", Actor: "dept:D2", Dept: "D2", At: at.Add(48 * time.Hour)},
			[]Notification{{Recipient: "bureau", Kind: "objection.verified", Message: "已核实"}, {Recipient: "D1", Kind: "objection.result", Message: "结果"}})
		if err != nil {
			t.Fatal(err)
		}
		if va.Status != ObjectionClosed || va.Result != ResultRejected || va.VerifyResult != ResultRejected || va.ResultNote != "数据无误" ||
			!va.NotifiedAt.Equal(at.Add(48*time.Hour)) || !va.ClosedAt.Equal(va.VerifiedAt) || !va.DecidedAt.IsZero() || va.Due() != "" {
			t.Fatalf("verified = %+v", va)
		}
		db1, err := db.DecideObjection(ctx, b.ID, ObjectionDecision{Result: ResultUpheld, Actor: "admin:t0", At: at.Add(3 * time.Hour)},
			[]Notification{{Recipient: b.Objector(), Kind: "objection.result", Message: "异议成立"}})
		if err != nil {
			t.Fatal(err)
		}
		if db1.Status != ObjectionClosed || db1.Result != ResultUpheld || db1.DecidedAt.IsZero() {
			t.Fatalf("decided = %+v", db1)
		}

		_, evs, err := db.GetObjection(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range evs {
			names = append(names, e.Event+"/"+e.Actor)
		}
		if len(names) != 3 || names[0] != "filed/dept:D1" || names[1] != "forwarded/admin:t0" || names[2] != "verified/dept:D2" {
			t.Errorf("events of a = %v", names)
		}
		if _, _, err := db.GetObjection(ctx, 999); !errors.Is(err, ErrNotFound) {
			t.Errorf("get unknown: %v", err)
		}
		for recipient, want := range map[string][]string{
			"bureau":                     {"objection.filed", "objection.filed", "objection.filed", "objection.verified"},
			"D2":                         {"objection.forwarded"},
			"D1":                         {"objection.result"},
			"subject:110101199003070014": {"objection.result"},
		} {
			ns, err := db.ListNotifications(ctx, recipient, 0, 10, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != len(want) {
				t.Fatalf("%s notifications = %+v, want kinds %v", recipient, ns, want)
			}
			for i := range ns {
				if ns[i].Kind != want[i] || ns[i].Ref == "" {
					t.Errorf("%s notification %d = %+v, want kind %s", recipient, i, ns[i], want[i])
				}
			}
		}

		// Filters and marks.
		for name, tc := range map[string]struct {
			f    ObjectionFilter
			want []int64
		}{
			"all":                {ObjectionFilter{Limit: 10}, []int64{a.ID, b.ID, c.ID}},
			"after":              {ObjectionFilter{After: a.ID, Limit: 1}, []int64{b.ID}},
			"pending":            {ObjectionFilter{Status: ObjectionPending, Limit: 10}, []int64{c.ID}},
			"subject":            {ObjectionFilter{SubjectType: "person", SubjectID: "110101199003070014", Limit: 10}, []int64{a.ID, b.ID}},
			"field":              {ObjectionFilter{Field: "name", Limit: 10}, []int64{b.ID, c.ID}},
			"dept filer":         {ObjectionFilter{Dept: "D1", Limit: 10}, []int64{a.ID}},
			"dept fwd":           {ObjectionFilter{Dept: "D2", Limit: 10}, []int64{a.ID}},
			"closed not overdue": {ObjectionFilter{OverdueOn: "2027-01-01", Limit: 10}, []int64{c.ID}},
		} {
			got, err := db.ListObjections(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var ids []int64
			for _, o := range got {
				ids = append(ids, o.ID)
			}
			if len(ids) != len(tc.want) {
				t.Errorf("%s: ids %v, want %v", name, ids, tc.want)
				continue
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Errorf("%s: ids %v, want %v", name, ids, tc.want)
				}
			}
		}
		if _, err := db.ListObjections(ctx, ObjectionFilter{Limit: 0}); err == nil {
			t.Error("limit 0 accepted")
		}
		if _, err := db.ListObjections(ctx, ObjectionFilter{OverdueOn: "tomorrow", Limit: 1}); err == nil {
			t.Error("overdue on a non-date accepted")
		}
		marks, err := db.ObjectionMarks(ctx, "person", "11010119900307003X")
		if err != nil {
			t.Fatal(err)
		}
		if len(marks) != 1 || marks[0].ID != c.ID || marks[0].Field != "name" || marks[0].Due != "2026-02-27" || marks[0].Status != ObjectionPending {
			t.Errorf("marks = %+v", marks)
		}
		if marks, err := db.ObjectionMarks(ctx, "person", "110101199003070014"); err != nil || len(marks) != 0 {
			t.Errorf("marks of a closed subject = %+v, %v", marks, err)
		}
	})
}

func TestFileObjectionRefusesBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ok := Objection{SubjectType: "person", SubjectID: "x", Field: "f", Reason: "r", FilerKind: FilerDept, FilerID: "D", FiledBy: "t", DecideDue: "2026-01-05"}
		for name, mut := range map[string]func(o *Objection){
			"no reason":    func(o *Objection) { o.Reason = "" },
			"bad kind":     func(o *Objection) { o.FilerKind = "bureau" },
			"bad due":      func(o *Objection) { o.DecideDue = "2026-1-5" },
			"bad utf8":     func(o *Objection) { o.Field = "\xff" },
			"long subject": func(o *Objection) { o.SubjectID = string(make([]byte, 65)) },
		} {
			o := ok
			mut(&o)
			if _, err := db.FileObjection(context.Background(), o, nil); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		if _, err := db.FileObjection(context.Background(), ok, nil); err != nil {
			t.Errorf("valid objection refused: %v", err)
		}
	})
}
