package pipeline

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/agent/hubclient"
)

// allPhases are the phase label values of the phase metric.
func allPhases() []string {
	return []string{checkpoint.PhaseSnapshot, checkpoint.PhaseIncremental, checkpoint.PhaseIdle, PhaseError}
}

// Status is the resource's part of a heartbeat.
func (p *Pipeline) Status() hubclient.ResourceStatus {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	return hubclient.ResourceStatus{
		Code:       p.code,
		Phase:      p.phase,
		RowsRead:   p.rowsRead.Load(),
		RowsSent:   p.rowsSent.Load(),
		RowsAcked:  p.rowsAcked.Load(),
		LagSeconds: p.lagLocked(now),
		Checkpoint: p.cp.Summary(),
		LastError:  p.lastError,
	}
}

// Checkpoint returns the last saved checkpoint.
func (p *Pipeline) Checkpoint() checkpoint.Checkpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cp.Clone()
}

func (p *Pipeline) lag(now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lagLocked(now)
}

// lagLocked is how old the data at Kafka is: now minus the time the source
// was last read up to (the start of the last acknowledged poll, or of the
// last complete snapshot); during a first snapshot, the time since it began.
func (p *Pipeline) lagLocked(now time.Time) float64 {
	base := p.cp.CaughtUpAt
	if base.IsZero() {
		base = p.cp.SnapshotStartedAt
	}
	if base.IsZero() {
		return 0
	}
	return max(0, now.Sub(base).Seconds())
}

func (p *Pipeline) setPhase(phase string) {
	p.mu.Lock()
	changed := p.phase != phase
	p.phase = phase
	p.mu.Unlock()
	p.m.SetPhase(p.code, phase, allPhases()...)
	if changed {
		p.notify()
	}
}

// setError records the last error of one origin (kafka, connector, …).
func (p *Pipeline) setError(origin string, err error) {
	msg := fmt.Sprintf("%s: %v", origin, err)
	p.mu.Lock()
	changed := p.errs[origin] != msg
	p.errs[origin] = msg
	p.lastError = p.joinErrorsLocked()
	p.mu.Unlock()
	if changed {
		p.notify()
	}
}

// clearError forgets the error of an origin once it works again.
func (p *Pipeline) clearError(origin string) {
	p.mu.Lock()
	_, had := p.errs[origin]
	delete(p.errs, origin)
	p.lastError = p.joinErrorsLocked()
	p.mu.Unlock()
	if had {
		p.notify()
	}
}

func (p *Pipeline) joinErrorsLocked() string {
	origins := make([]string, 0, len(p.errs))
	for o := range p.errs {
		origins = append(origins, o)
	}
	sort.Strings(origins)
	msgs := make([]string, len(origins))
	for i, o := range origins {
		msgs[i] = p.errs[o]
	}
	return strings.Join(msgs, "; ")
}

func (p *Pipeline) notify() {
	if p.cfg.Notify != nil {
		p.cfg.Notify()
	}
}
