package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/tongban/tongban/agent/hubclient"
)

// register announces the agent to the hub and returns the catalog
// definitions of its resources, in config order. While the hub is
// unreachable it uses the definitions cached at the last registration, if
// they cover every resource, and registers later from the heartbeat loop;
// without a cache it waits for the hub. A refusal by the hub (4xx) is an
// error: retrying would not change it.
func (a *Agent) register(ctx context.Context) ([]hubclient.Definition, error) {
	wait := a.opts.RetryMin
	for {
		defs, err := a.tryRegister(ctx)
		if err == nil {
			return defs, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if hubclient.IsPermanent(err) {
			return nil, fmt.Errorf("the hub refused the registration of agent %s: %w", a.cfg.AgentID, err)
		}
		cached, savedAt, ok, cerr := loadDefinitions(a.cfg.StateDir, a.cfg.Codes())
		if cerr != nil {
			a.log.Warn("cached catalog definitions unusable", "error", cerr)
		}
		if ok {
			a.log.Warn("hub unreachable: starting with the catalog definitions cached at the last registration; registering again later",
				"error", err, "cached_at", savedAt.Format(time.RFC3339))
			a.mu.Lock()
			a.defs = cached
			a.mu.Unlock()
			return cached, nil
		}
		a.log.Error("hub unreachable and no cached catalog definitions: waiting for the hub", "hub", a.cfg.Hub.URL, "error", err, "retry_in", wait)
		if !sleepCtx(ctx, wait) {
			return nil, ctx.Err()
		}
		wait = min(wait*2, a.opts.RetryMax)
	}
}

// tryRegister registers once and caches the definitions.
func (a *Agent) tryRegister(ctx context.Context) ([]hubclient.Definition, error) {
	defs, err := a.hub.Register(ctx, hubclient.RegisterRequest{
		AgentID: a.cfg.AgentID, Dept: a.cfg.Dept, Version: a.opts.Version, Resources: a.cfg.Codes(),
	})
	if err != nil {
		a.m.HubErrors.Inc()
		a.setError("hub", fmt.Errorf("register: %w", err))
		return nil, err
	}
	for _, d := range defs {
		if d.Fingerprint != "" && d.Fingerprint != d.Resource.Schema.Fingerprint() {
			a.log.Warn("the hub's schema fingerprint differs from the agent's computation; sending the hub's",
				"resource", d.Resource.Code, "hub_fingerprint", d.Fingerprint, "agent_fingerprint", d.Resource.Schema.Fingerprint())
		}
	}
	if err := saveDefinitions(a.cfg.StateDir, a.cfg.Hub.URL, defs); err != nil {
		a.log.Warn("could not cache the catalog definitions (a restart while the hub is down will wait for it)", "error", err)
	}
	a.mu.Lock()
	changed := a.defs != nil && !sameDefinitions(a.defs, defs)
	a.defs = defs
	a.registered = true
	a.mu.Unlock()
	a.clearError("hub")
	if changed {
		a.log.Warn("the catalog definitions changed at the hub since the agent started; restart the agent to use them")
		a.setError("catalog", fmt.Errorf("definitions changed at the hub; restart the agent to use them"))
	}
	a.log.Info("registered with the hub", "resources", len(defs))
	return defs, nil
}

func sameDefinitions(a, b []hubclient.Definition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Resource.Code != b[i].Resource.Code || a[i].SchemaFingerprint() != b[i].SchemaFingerprint() ||
			a[i].SchemaVersion != b[i].SchemaVersion {
			return false
		}
	}
	return true
}
