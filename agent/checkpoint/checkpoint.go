// Package checkpoint keeps each resource's reading position in a JSON file
// in the agent's state directory. A file is replaced atomically (write a
// temporary file, fsync it, rename it over the old one, fsync the directory),
// so a crash at any moment leaves either the old or the new checkpoint,
// never a torn one. The agent saves a checkpoint only after Kafka has
// acknowledged every message of the chunk it covers.
package checkpoint

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Phases of a resource.
const (
	// PhaseSnapshot: reading the whole table in key order.
	PhaseSnapshot = "snapshot"
	// PhaseIncremental: following changes by watermark (mode incremental).
	PhaseIncremental = "incremental"
	// PhaseIdle: a full snapshot is complete and the next one is not due
	// yet (mode snapshot).
	PhaseIdle = "idle"
)

// Checkpoint is the acknowledged position of one resource.
type Checkpoint struct {
	Resource string `json:"resource"`
	Phase    string `json:"phase"`
	// Fingerprint of the catalog schema the rows were sent with; a new
	// schema restarts the snapshot so the hub gets every field.
	Fingerprint string `json:"fingerprint,omitempty"`

	// SnapshotLastKey is the primary key of the last row of the snapshot
	// acknowledged by Kafka; nil: the snapshot starts from the first row.
	SnapshotLastKey []string `json:"snapshot_last_key,omitempty"`
	// SnapshotStartWatermark is the highest watermark found before the
	// snapshot began ("" when the table had none); incremental reading
	// starts there.
	SnapshotStartWatermark string `json:"snapshot_start_watermark,omitempty"`
	// SnapshotStartedAt is when the current snapshot began.
	SnapshotStartedAt time.Time `json:"snapshot_started_at,omitzero"`
	// SnapshotRows counts the rows of the current snapshot acknowledged so far.
	SnapshotRows int64 `json:"snapshot_rows"`
	// SnapshotDoneAt is when the last snapshot completed (zero: never).
	SnapshotDoneAt time.Time `json:"snapshot_done_at,omitzero"`

	// Watermark is the highest watermark acknowledged in the incremental
	// phase (the next poll reads from it minus the overlap).
	Watermark string `json:"watermark,omitempty"`
	// CaughtUpAt is when the last poll that read everything up to its
	// start was acknowledged (the base of the lag).
	CaughtUpAt time.Time `json:"caught_up_at,omitzero"`

	// ReconciledAt is when the last reconcile finished.
	ReconciledAt time.Time `json:"reconciled_at,omitzero"`

	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks that a checkpoint read from disk makes sense.
func (c *Checkpoint) Validate() error {
	switch c.Phase {
	case PhaseSnapshot, PhaseIncremental, PhaseIdle:
	default:
		return fmt.Errorf("phase %q: want %s, %s or %s", c.Phase, PhaseSnapshot, PhaseIncremental, PhaseIdle)
	}
	if c.Resource == "" {
		return fmt.Errorf("no resource")
	}
	if c.SnapshotRows < 0 {
		return fmt.Errorf("snapshot_rows %d is negative", c.SnapshotRows)
	}
	return nil
}

// Clone returns a deep copy.
func (c Checkpoint) Clone() Checkpoint {
	c.SnapshotLastKey = slices.Clone(c.SnapshotLastKey)
	return c
}

// Summary renders the checkpoint in one line, for heartbeats and logs.
func (c Checkpoint) Summary() string {
	switch c.Phase {
	case PhaseSnapshot:
		if c.SnapshotLastKey == nil {
			return "snapshot from the first row"
		}
		return fmt.Sprintf("snapshot after key (%s), %d rows acknowledged", strings.Join(c.SnapshotLastKey, ", "), c.SnapshotRows)
	case PhaseIncremental:
		if c.Watermark == "" {
			return "incremental from the first watermark"
		}
		return "incremental from watermark " + c.Watermark
	case PhaseIdle:
		return fmt.Sprintf("snapshot of %d rows done at %s", c.SnapshotRows, c.SnapshotDoneAt.Format(time.RFC3339))
	}
	return c.Phase
}
