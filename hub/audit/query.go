package audit

import (
	"context"
	"fmt"

	"github.com/tongban/tongban/hub/store"
)

// Lister is what Query needs of the store (*store.DB).
type Lister interface {
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Page is one page of a query, newest entries first.
type Page struct {
	Entries []store.AuditEntry
	// Next is the Before of the following page; 0 when this page is the last.
	Next int64
}

// Query returns the entries matching f, newest first: the bureau filters by
// department, actor, action, resource, subject and time; a data subject's own
// access history is f with SubjectType and SubjectID set (the caller checks
// that the subject is who asks). f.Limit 0 means 100.
func Query(ctx context.Context, st Lister, f store.AuditFilter) (Page, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return Page{}, fmt.Errorf("audit: query: since %s is not before until %s", f.Since, f.Until)
	}
	es, err := st.ListAudit(ctx, f)
	if err != nil {
		return Page{}, fmt.Errorf("audit: query: %w", err)
	}
	p := Page{Entries: es}
	if len(es) == f.Limit && es[len(es)-1].Seq > 1 {
		p.Next = es[len(es)-1].Seq
	}
	return p, nil
}
