package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Notification is a message the hub leaves for a department (or, with
// Recipient "subject:<id>", for a data subject, delivered through the
// bureau's service window): a conflict it must correct at the source, an
// objection forwarded to it or decided for it.
type Notification struct {
	// ID is assigned by the store.
	ID int64
	// Recipient is a department code, or "subject:" followed by a citizen
	// ID or USCC.
	Recipient string
	// Kind classifies it, e.g. "conflict.correct", "objection.forwarded",
	// "objection.result".
	Kind string
	// Ref names what it is about, e.g. "conflict/12" or "objection/3".
	Ref string
	// Message is the readable text, Chinese first.
	Message string
	// CreatedAt is set to the current time when zero.
	CreatedAt time.Time
	// ReadAt is zero until the recipient marks it read.
	ReadAt time.Time
}

// Notification limits, in characters.
const (
	maxRecipientLen       = 128
	maxNotificationKind   = 64
	maxNotificationRef    = 128
	maxNotificationBytes  = 16 << 10
	maxNotificationsLimit = 1000
)

func migrationNotifications() migration {
	return migration{
		version: 6,
		name:    "notifications",
		sqlite: []string{`CREATE TABLE notifications (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient  TEXT NOT NULL,
  kind       TEXT NOT NULL,
  ref        TEXT NOT NULL,
  message    TEXT NOT NULL,
  created_at TEXT NOT NULL,
  read_at    TEXT
) STRICT`,
			`CREATE INDEX notifications_recipient ON notifications (recipient, id)`},
		mysql: []string{`CREATE TABLE IF NOT EXISTS notifications (
  id         BIGINT         NOT NULL AUTO_INCREMENT,
  recipient  VARBINARY(512) NOT NULL,
  kind       VARCHAR(64)    NOT NULL,
  ref        VARCHAR(128)   NOT NULL,
  message    TEXT           NOT NULL,
  created_at DATETIME(6)    NOT NULL,
  read_at    DATETIME(6)    NULL,
  PRIMARY KEY (id),
  KEY notifications_recipient (recipient, id)
)` + mysqlTable},
	}
}

// execer is what writing a notification needs: the pool or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// AddNotification records n and returns its id.
func (s *DB) AddNotification(ctx context.Context, n Notification) (int64, error) {
	id, err := addNotification(ctx, s.db, n)
	if err != nil {
		return 0, fmt.Errorf("store: add notification for %q: %w", n.Recipient, err)
	}
	return id, nil
}

// addNotification writes n through ex (the pool, or a transaction of a
// decision that notifies).
func addNotification(ctx context.Context, ex execer, n Notification) (int64, error) {
	if err := checkText("recipient", n.Recipient, maxRecipientLen, true); err != nil {
		return 0, err
	}
	if err := checkText("kind", n.Kind, maxNotificationKind, true); err != nil {
		return 0, err
	}
	if err := checkText("ref", n.Ref, maxNotificationRef, false); err != nil {
		return 0, err
	}
	if n.Message == "" {
		return 0, errors.New("message is empty")
	}
	at, err := timeArg("created at", n.CreatedAt, time.Now())
	if err != nil {
		return 0, err
	}
	res, err := ex.ExecContext(ctx, `INSERT INTO notifications (recipient, kind, ref, message, created_at) VALUES (?, ?, ?, ?, ?)`,
		n.Recipient, n.Kind, n.Ref, truncateText(n.Message, maxNotificationBytes), at)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// ListNotifications returns up to limit notifications of recipient with id >
// after, oldest first; unread only when unreadOnly.
func (s *DB) ListNotifications(ctx context.Context, recipient string, after int64, limit int, unreadOnly bool) ([]Notification, error) {
	if limit <= 0 || limit > maxNotificationsLimit {
		return nil, fmt.Errorf("store: list notifications: limit %d is not in 1..%d", limit, maxNotificationsLimit)
	}
	q := `SELECT id, recipient, kind, ref, message, created_at, read_at FROM notifications WHERE recipient = ? AND id > ?`
	if unreadOnly {
		q += ` AND read_at IS NULL`
	}
	q += ` ORDER BY id LIMIT ?`
	rs, err := s.db.QueryContext(ctx, q, recipient, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list notifications: %w", err)
	}
	defer rs.Close()
	var out []Notification
	for rs.Next() {
		var (
			n          Notification
			created, r dbTime
		)
		if err := rs.Scan(&n.ID, &n.Recipient, &n.Kind, &n.Ref, &n.Message, &created, &r); err != nil {
			return nil, fmt.Errorf("store: list notifications: %w", err)
		}
		n.CreatedAt, n.ReadAt = created.Time, r.Time
		out = append(out, n)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: list notifications: %w", err)
	}
	return out, nil
}

// MarkNotificationRead sets the read time of notification id of recipient;
// ErrNotFound when recipient has no such notification.
func (s *DB) MarkNotificationRead(ctx context.Context, recipient string, id int64, at time.Time) error {
	ts, err := timeArg("read at", at, time.Now())
	if err != nil {
		return fmt.Errorf("store: mark notification %d read: %w", id, err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND recipient = ?`, ts, id, recipient)
	if err != nil {
		return fmt.Errorf("store: mark notification %d read: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		// MySQL counts changed rows only; look again before saying not found.
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM notifications WHERE id = ? AND recipient = ?`, id, recipient).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: mark notification %d read: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: mark notification %d read: %w", id, err)
		}
	}
	return nil
}
