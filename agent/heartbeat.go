package agent

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tongban/tongban/agent/hubclient"
)

// minHeartbeatGap spaces heartbeats triggered by status changes.
const minHeartbeatGap = time.Second

// Heartbeat is the agent's current status as sent to the hub.
func (a *Agent) Heartbeat() hubclient.Heartbeat {
	hb := hubclient.Heartbeat{AgentID: a.cfg.AgentID, Dept: a.cfg.Dept, Version: a.opts.Version}
	for _, st := range a.resources {
		hb.Resources = append(hb.Resources, st.status())
	}
	a.mu.Lock()
	origins := make([]string, 0, len(a.lastError))
	for o := range a.lastError {
		origins = append(origins, o)
	}
	sort.Strings(origins)
	msgs := make([]string, len(origins))
	for i, o := range origins {
		msgs[i] = a.lastError[o]
	}
	a.mu.Unlock()
	hb.LastError = strings.Join(msgs, "; ")
	return hb
}

// heartbeats sends a heartbeat every interval and soon after a status
// change, registering first when the agent started from cached definitions.
func (a *Agent) heartbeats(ctx context.Context) {
	t := time.NewTicker(a.cfg.Hub.HeartbeatInterval)
	defer t.Stop()
	var last time.Time
	failing := false
	for {
		a.mu.Lock()
		registered := a.registered
		a.mu.Unlock()
		if !registered {
			if _, err := a.tryRegister(ctx); err != nil && ctx.Err() == nil {
				if hubclient.IsPermanent(err) {
					a.log.Error("the hub refuses the registration; still running from the cached definitions", "error", err)
				}
			}
		}
		err := a.sendHeartbeat(ctx)
		last = time.Now()
		switch {
		case err != nil && ctx.Err() == nil:
			a.m.HubErrors.Inc()
			if !failing {
				a.log.Warn("heartbeat failed; the agent keeps working and retries", "error", err)
			}
			failing = true
			var se *hubclient.StatusError
			if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusConflict) {
				a.mu.Lock()
				a.registered = false // the hub forgot us
				a.mu.Unlock()
			}
		case err == nil && failing:
			a.log.Info("heartbeats reach the hub again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.notify:
			if gap := time.Until(last.Add(minHeartbeatGap)); gap > 0 && !sleepCtx(ctx, gap) {
				return
			}
		}
	}
}

func (a *Agent) sendHeartbeat(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return a.hub.SendHeartbeat(hctx, a.Heartbeat())
}

// finalHeartbeat reports the stopped state, briefly, on the way out.
func (a *Agent) finalHeartbeat(ctx context.Context) {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := a.hub.SendHeartbeat(hctx, a.Heartbeat()); err != nil {
		a.log.Debug("final heartbeat failed", "error", err)
	}
}
