package ca

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tongban/tongban/hub/store"
)

// Lookup is the store side of the TLS check: the record of a serial,
// wrapping store.ErrNotFound when there is none.
type Lookup interface {
	CertificateBySerial(ctx context.Context, serial string) (store.Certificate, error)
}

// DefaultCacheTTL is how long a listener reuses what the store said about a
// serial: a revocation takes effect on new connections within this time.
const DefaultCacheTTL = 30 * time.Second

// lookupTimeout bounds a store lookup during a handshake. crypto/tls gives
// VerifyConnection no context, so the lookup gets its own deadline.
const lookupTimeout = 5 * time.Second

// maxCacheEntries bounds the lookup cache; a full cache drops its expired
// entries, then everything.
const maxCacheEntries = 4096

// TLSOptions tune TLSConfig.
type TLSOptions struct {
	// CacheTTL is how long a lookup is reused: 0 means DefaultCacheTTL, a
	// negative value no cache (every handshake asks the store).
	CacheTTL time.Duration
	// AllowNoClientCert lets clients without a certificate complete the
	// handshake (they must then authenticate otherwise, with an API token).
	// A certificate that is presented is verified all the same.
	AllowNoClientCert bool
	// Logger receives refused certificates; nil means slog.Default().
	Logger *slog.Logger
}

// Errors of the connection check, wrapped by the handshake error.
var (
	ErrUnknownCert = errors.New("client certificate is not one the hub issued")
	ErrRevokedCert = errors.New("client certificate is revoked")
)

// TLSConfig returns the server TLS configuration of the sharing listener:
// TLS 1.2 or later, serving the server certificate, requiring a client
// certificate that chains to this CA (unless opts.AllowNoClientCert), and
// refusing — on every handshake, resumptions included — certificates the
// store does not know, has recorded differently (fingerprint, department) or
// has revoked. A store that cannot answer refuses the handshake: the check
// fails closed.
func (c *CA) TLSConfig(st Lookup, server tls.Certificate, opts TLSOptions) *tls.Config {
	ttl := opts.CacheTTL
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	v := &verifier{st: st, log: log, allowNone: opts.AllowNoClientCert}
	if ttl > 0 {
		v.cache = &lookupCache{ttl: ttl, entries: make(map[string]cacheEntry)}
	}
	auth := tls.RequireAndVerifyClientCert
	if opts.AllowNoClientCert {
		auth = tls.VerifyClientCertIfGiven
	}
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		Certificates:     []tls.Certificate{server},
		ClientAuth:       auth,
		ClientCAs:        c.Pool(),
		VerifyConnection: v.verify,
	}
}

type verifier struct {
	st        Lookup
	cache     *lookupCache // nil: no cache
	log       *slog.Logger
	allowNone bool
}

// verify runs after crypto/tls has verified the chain against the CA (with
// client-auth key usage and validity dates).
func (v *verifier) verify(cs tls.ConnectionState) error {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		if v.allowNone && len(cs.PeerCertificates) == 0 {
			return nil
		}
		return errors.New("no verified client certificate")
	}
	leaf := cs.VerifiedChains[0][0]
	serial := SerialString(leaf.SerialNumber)
	dept, err := DeptFromCert(leaf)
	if err != nil {
		v.log.Warn("client certificate refused: no department", "serial", serial, "err", err)
		return fmt.Errorf("client certificate %s: %w", serial, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	rec, found, err := v.lookup(ctx, serial)
	if err != nil {
		v.log.Error("client certificate refused: cannot check revocation", "serial", serial, "dept", dept, "err", err)
		return fmt.Errorf("client certificate %s: cannot check revocation: %w", serial, err)
	}
	refuse := func(why error) error {
		v.log.Warn("client certificate refused", "serial", serial, "dept", dept, "reason", why)
		return fmt.Errorf("client certificate %s of %s: %w", serial, dept, why)
	}
	switch {
	case !found:
		return refuse(ErrUnknownCert)
	case rec.Fingerprint != Fingerprint(leaf.Raw):
		return refuse(fmt.Errorf("%w: its fingerprint differs from the recorded one", ErrUnknownCert))
	case rec.Dept != dept:
		return refuse(fmt.Errorf("%w: it was recorded for department %s", ErrUnknownCert, rec.Dept))
	case rec.RevokedAt != nil:
		return refuse(ErrRevokedCert)
	}
	return nil
}

// lookup asks the cache, then the store. Store failures are not cached.
func (v *verifier) lookup(ctx context.Context, serial string) (store.Certificate, bool, error) {
	if v.cache != nil {
		if e, ok := v.cache.get(serial); ok {
			return e.rec, e.found, nil
		}
	}
	rec, err := v.st.CertificateBySerial(ctx, serial)
	found := true
	if errors.Is(err, store.ErrNotFound) {
		found, err = false, nil
	}
	if err != nil {
		return store.Certificate{}, false, err
	}
	if v.cache != nil {
		v.cache.put(serial, cacheEntry{rec: rec, found: found})
	}
	return rec, found, nil
}

type cacheEntry struct {
	rec   store.Certificate
	found bool
	until time.Time
}

// lookupCache remembers store answers per serial for ttl.
type lookupCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cacheEntry
}

func (c *lookupCache) get(serial string) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[serial]
	if !ok {
		return cacheEntry{}, false
	}
	if !time.Now().Before(e.until) {
		delete(c.entries, serial)
		return cacheEntry{}, false
	}
	return e, true
}

func (c *lookupCache) put(serial string, e cacheEntry) {
	now := time.Now()
	e.until = now.Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCacheEntries {
		for k, old := range c.entries {
			if !now.Before(old.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			clear(c.entries)
		}
	}
	c.entries[serial] = e
}
