package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/tongban/tongban/hub/store"
)

// Reader is what Verify needs of the store (*store.DB).
type Reader interface {
	ReadAuditHead(ctx context.Context) (store.AuditHead, error)
	ReadAudit(ctx context.Context, after, through int64, limit int) ([]store.AuditEntry, error)
	NextAuditSeq(ctx context.Context, after int64) (int64, bool, error)
}

// verifyPage is how many entries Verify reads at a time.
const verifyPage = 1000

// Kinds of Problem.
const (
	ProblemHash       = "hash"        // an entry's content does not match its hash: edited
	ProblemPrevHash   = "prev_hash"   // an entry does not chain to the one before: it or its predecessor rewritten
	ProblemGap        = "gap"         // seq jumps: entries deleted
	ProblemTruncated  = "truncated"   // the head records more entries than there are: entries deleted at the end
	ProblemHead       = "head"        // the head's hash is not the last entry's
	ProblemBeyondHead = "beyond_head" // entries stored past the head: inserted outside the log
	ProblemUnreadable = "unreadable"  // a row cannot be decoded (its time or fields edited into garbage)
)

// Problem is the first position where the chain is broken.
type Problem struct {
	// Seq is the position: the edited entry, the first missing one, the
	// first one beyond the head.
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	// Message says what is wrong, Chinese first with English alongside.
	Message string `json:"message"`
}

// Report is the result of Verify.
type Report struct {
	// Entries is how many entries were checked and found intact (those
	// before Problem).
	Entries int64
	// Head is the chain head recorded when verification started; a log
	// that passes ends with it. Entries appended during verification are
	// left to the next run.
	Head store.AuditHead
	// Problem is nil when the chain is intact.
	Problem *Problem
}

// OK reports whether the chain is intact.
func (r Report) OK() bool { return r.Problem == nil }

// Verify streams the audit log in seq order, a page at a time, recomputes
// every hash and checks the chain from genesis to the recorded head. It
// reports the first broken position in Report.Problem; the error is for
// failures to read. progress, when set, is called after each page with the
// number of entries checked.
func Verify(ctx context.Context, st Reader, progress func(done int64)) (Report, error) {
	head, err := st.ReadAuditHead(ctx)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Report{Problem: &Problem{Seq: 1, Kind: ProblemHead,
				Message: "链头记录（audit_head）被删除 / the chain head row (audit_head) was deleted"}}, nil
		}
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	v := verifier{st: st, progress: progress, prev: GenesisHash(), rep: Report{Head: head}}
	if err := v.run(ctx, 0, head.Seq); err != nil {
		return v.rep, fmt.Errorf("audit: verify: %w", err)
	}
	if v.rep.Problem != nil {
		return v.rep, nil
	}
	last := v.next - 1
	switch {
	case last < head.Seq:
		v.fail(last+1, ProblemTruncated, fmt.Sprintf("第 %d 至 %d 条记录缺失（链头记录为第 %d 条）：末尾记录被删除 / entries %d..%d are missing at the end (the head records seq %d): entries deleted",
			last+1, head.Seq, head.Seq, last+1, head.Seq, head.Seq))
		return v.rep, nil
	case !bytes.Equal(v.prev, head.Hash):
		v.fail(head.Seq, ProblemHead, fmt.Sprintf("链头哈希 %s 与第 %d 条记录的哈希 %s 不符 / the head hash %s is not the hash %s of entry %d",
			hexOr(head.Hash), head.Seq, hexOr(v.prev), hexOr(head.Hash), hexOr(v.prev), head.Seq))
		return v.rep, nil
	}
	// Rows past the head: appended since the head was read (then the head
	// has moved past them, as appends write rows and head together), or
	// inserted behind the log's back.
	if seq, ok, err := st.NextAuditSeq(ctx, head.Seq); err != nil {
		return v.rep, fmt.Errorf("audit: verify: %w", err)
	} else if ok {
		now, err := st.ReadAuditHead(ctx)
		if err != nil {
			return v.rep, fmt.Errorf("audit: verify: %w", err)
		}
		if now.Seq < seq {
			v.fail(seq, ProblemBeyondHead, fmt.Sprintf("第 %d 条记录在链头（第 %d 条）之后：被绕过日志插入 / entry %d lies beyond the head (seq %d): inserted outside the log",
				seq, now.Seq, seq, now.Seq))
		}
	}
	return v.rep, nil
}

type verifier struct {
	st       Reader
	progress func(int64)
	next     int64 // the seq the next entry must have, from 1
	prev     []byte
	rep      Report
}

func (v *verifier) fail(seq int64, kind, msg string) {
	v.rep.Problem = &Problem{Seq: seq, Kind: kind, Message: msg}
}

// run checks the entries with after < seq <= through, stopping at the first
// problem.
func (v *verifier) run(ctx context.Context, after, through int64) error {
	if v.next == 0 {
		v.next = 1
	}
	for after < through && v.rep.Problem == nil {
		page, err := v.st.ReadAudit(ctx, after, through, verifyPage)
		var rowErr *store.AuditRowError
		if errors.As(err, &rowErr) && rowErr.Seq > after && rowErr.Seq <= through {
			// Check what precedes the unreadable row first: an earlier
			// problem is the one to report.
			if err := v.run(ctx, after, rowErr.Seq-1); err != nil || v.rep.Problem != nil {
				return err
			}
			if v.next != rowErr.Seq {
				v.gap(rowErr.Seq)
				return nil
			}
			v.fail(rowErr.Seq, ProblemUnreadable, fmt.Sprintf("第 %d 条记录无法读取（被修改）/ entry %d cannot be read (edited): %v",
				rowErr.Seq, rowErr.Seq, rowErr.Err))
			return nil
		}
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, e := range page {
			if !v.check(e) {
				return nil
			}
		}
		after = page[len(page)-1].Seq
		if v.progress != nil {
			v.progress(v.rep.Entries)
		}
	}
	return nil
}

// check checks e against the chain so far; false at a problem.
func (v *verifier) check(e store.AuditEntry) bool {
	if e.Seq != v.next {
		v.gap(e.Seq)
		return false
	}
	if !bytes.Equal(e.PrevHash, v.prev) {
		v.fail(e.Seq, ProblemPrevHash, fmt.Sprintf("第 %d 条记录的前序哈希 %s 不是第 %d 条的哈希 %s：记录被改写 / entry %d's prev_hash %s is not entry %d's hash %s: entries rewritten",
			e.Seq, hexOr(e.PrevHash), e.Seq-1, hexOr(v.prev), e.Seq, hexOr(e.PrevHash), e.Seq-1, hexOr(v.prev)))
		return false
	}
	if h := Hash(e); !bytes.Equal(h, e.Hash) {
		v.fail(e.Seq, ProblemHash, fmt.Sprintf("第 %d 条记录的内容与其哈希不符：记录被修改 / entry %d was edited: its content hashes to %s, the stored hash is %s",
			e.Seq, e.Seq, hexOr(h), hexOr(e.Hash)))
		return false
	}
	v.prev = e.Hash
	v.next++
	v.rep.Entries++
	return true
}

// gap reports entries v.next..seq-1 missing.
func (v *verifier) gap(seq int64) {
	what := fmt.Sprintf("第 %d 至 %d 条记录缺失：记录被删除 / entries %d..%d are missing: deleted between entries %d and %d",
		v.next, seq-1, v.next, seq-1, v.next-1, seq)
	if v.next == seq-1 {
		what = fmt.Sprintf("第 %d 条记录缺失：记录被删除 / entry %d is missing: deleted between entries %d and %d",
			v.next, v.next, v.next-1, seq)
	}
	v.fail(v.next, ProblemGap, what)
}

func hexOr(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	return hex.EncodeToString(b)
}
