package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestNotifications(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for i, n := range []Notification{
			{Recipient: "D1", Kind: "conflict.correct", Ref: "conflict/1", Message: "请更正 / please correct", CreatedAt: at},
			{Recipient: "D2", Kind: "objection.forwarded", Ref: "objection/1", Message: "请核实", CreatedAt: at},
			{Recipient: "D1", Kind: "objection.result", Ref: "objection/2", Message: "异议已处理", CreatedAt: at.Add(time.Hour)},
		} {
			if _, err := db.AddNotification(ctx, n); err != nil {
				t.Fatalf("add %d: %v", i, err)
			}
		}
		if _, err := db.AddNotification(ctx, Notification{Recipient: "D1", Kind: "x"}); err == nil {
			t.Error("a notification without a message was accepted")
		}
		got, err := db.ListNotifications(ctx, "D1", 0, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Ref != "conflict/1" || got[1].Ref != "objection/2" || !got[0].CreatedAt.Equal(at) {
			t.Fatalf("D1 notifications = %+v", got)
		}
		if err := db.MarkNotificationRead(ctx, "D1", got[0].ID, at.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkNotificationRead(ctx, "D2", got[0].ID, at); !errors.Is(err, ErrNotFound) {
			t.Errorf("marking another recipient's notification: err = %v, want ErrNotFound", err)
		}
		unread, err := db.ListNotifications(ctx, "D1", 0, 10, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(unread) != 1 || unread[0].Ref != "objection/2" {
			t.Errorf("unread = %+v, want only objection/2", unread)
		}
	})
}
