// Package api is the hub's HTTP JSON API under /api/v1 (see the table in
// docs/ARCHITECTURE.md), with bearer-token auth (package auth), plus
// /metrics (Prometheus, no auth) and /healthz.
//
// Every error is a JSON object {"error": "...", "field": "..."}: 400 names the
// bad field, query parameter or body key; 401 means no or a bad token; 403 a
// token that may not do this; 404 an unknown resource or record. Request
// bodies are capped at 1 MiB and decoded strictly (unknown keys are refused).
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/store"
)

// Prefix is the path prefix of every API route.
const Prefix = "/api/v1"

// MaxBodyBytes caps request bodies.
const MaxBodyBytes = 1 << 20

// Store is what the API needs of the hub store (*store.DB).
type Store interface {
	auth.TokenReader
	GetRecord(ctx context.Context, resource, key string) (store.Record, bool, error)
	ListRecords(ctx context.Context, resource, after string, limit int, includeDeleted bool) ([]store.Record, error)
	ListKeys(ctx context.Context, resource, after string, limit int) ([]store.KeyVersion, error)
	CountRecords(ctx context.Context) ([]store.ResourceCount, error)
	SchemaVersions(ctx context.Context, resource string) ([]store.SchemaVersion, error)
	UpsertAgent(ctx context.Context, a store.AgentStatus) error
	ListAgents(ctx context.Context) ([]store.AgentStatus, error)
	ListDeadLetters(ctx context.Context, limit int) ([]store.DeadLetter, error)
	CountDeadLetters(ctx context.Context) (int64, error)
}

// IngestStats gives the ingest counters (*ingest.Ingester).
type IngestStats interface {
	Stats() ingest.Stats
}

// Config of the API handler.
type Config struct {
	Store   Store            // required
	Catalog *catalog.Catalog // required
	Ingest  IngestStats      // optional: without it the ingest counters are absent
	// Feature stores, each optional: without one its routes are absent.
	// *store.DB (and the feature services) satisfy them.
	Merge      MergeStore       // golden records, conflicts, notifications (merge.go)
	Quality    QualityStore     // quarantine, fixes, scorecards (quality.go)
	Objections ObjectionService // objections on public data (objections.go)
	Sharing    SharingService   // applications, grants, scenarios, the three lists (sharing.go)
	// The share endpoint (share.go) needs Sharing, Audit, AuditLog and
	// ShareRead; without them /share and /audit are absent.
	Audit       Auditor
	AuditLog    AuditLister
	ShareRead   ShareReader
	ShareLimits ShareLimits
	// Live routes lookups of live resources to the departments' agents
	// (live.go); without it /live is absent.
	Live LiveRouter
	// Licences is the e-licence store (licences.go); OpenData the open-data
	// portal (opendata.go, public routes under /open/v1). Without one its
	// routes are absent.
	Licences LicenceService
	OpenData OpenDataService
	// Now is the clock of the rate limits and quotas (time.Now when nil).
	Now func() time.Time
	// CertPrincipal, when set, authenticates a request without a bearer
	// token by its verified client certificate (mutual TLS on the sharing
	// listener): a department principal.
	CertPrincipal func(tls.ConnectionState) (auth.Principal, bool)
	Registry      *prometheus.Registry
	Logger        *slog.Logger
}

// server holds the handlers' dependencies.
type server struct {
	st            Store
	cat           *catalog.Catalog
	ingest        IngestStats
	merge         MergeStore
	quality       QualityStore
	objs          ObjectionService
	sharing       SharingService
	audit         Auditor
	auditLog      AuditLister
	shareRead     ShareReader
	live          LiveRouter
	licences      LicenceService
	openData      OpenDataService
	limits        *shareLimiter
	certPrincipal func(tls.ConnectionState) (auth.Principal, bool)
	log           *slog.Logger
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
}

// New returns the handler of the whole API, /metrics and /healthz. Its own
// request metrics are registered on cfg.Registry, which /metrics serves.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil || cfg.Catalog == nil || cfg.Registry == nil {
		return nil, errors.New("api: Store, Catalog and Registry are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &server{
		st: cfg.Store, cat: cfg.Catalog, ingest: cfg.Ingest, log: cfg.Logger,
		merge: cfg.Merge, quality: cfg.Quality, objs: cfg.Objections, sharing: cfg.Sharing,
		audit: cfg.Audit, auditLog: cfg.AuditLog, shareRead: cfg.ShareRead, certPrincipal: cfg.CertPrincipal,
		live: cfg.Live, licences: cfg.Licences, openData: cfg.OpenData,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_hub_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tongban_hub_http_request_seconds",
			Help:    "HTTP request duration by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 3, 10),
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{s.requests, s.latency} {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, err
		}
	}

	routes := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		routes.Handle(pattern, s.instrument(pattern, h))
	}
	anyToken := func(h handlerFunc) http.HandlerFunc { return s.authed(roleAny, h) }
	admin := func(h handlerFunc) http.HandlerFunc { return s.authed(roleAdmin, h) }
	dept := func(h handlerFunc) http.HandlerFunc { return s.authed(roleDept, h) }

	handle("GET "+Prefix+"/catalog/resources", anyToken(s.listResources))
	handle("GET "+Prefix+"/catalog/resources/{code}", anyToken(s.showResource))
	handle("POST "+Prefix+"/agents/register", dept(s.registerAgent))
	handle("POST "+Prefix+"/agents/heartbeat", dept(s.heartbeat))
	handle("GET "+Prefix+"/agents", admin(s.listAgents))
	handle("GET "+Prefix+"/resources/{code}/records", anyToken(s.listRecords))
	handle("GET "+Prefix+"/resources/{code}/keys", anyToken(s.listKeys))
	handle("GET "+Prefix+"/ingest/stats", admin(s.ingestStats))
	handle("GET "+Prefix+"/deadletters", admin(s.deadLetters))
	rt := featureRoutes{handle: handle, anyToken: anyToken, admin: admin, dept: dept}
	if s.merge != nil {
		s.mergeRoutes(rt)
	}
	if s.quality != nil {
		s.qualityRoutes(rt)
	}
	if s.objs != nil {
		s.objectionRoutes(rt)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s.limits = &shareLimiter{cfg: cfg.ShareLimits, now: cfg.Now, rates: map[string]*rate.Limiter{}}
	if s.sharing != nil && s.audit != nil && s.auditLog != nil && s.shareRead != nil {
		s.shareRoutes(rt)
	}
	if s.sharing != nil {
		s.sharingRoutes(rt)
	}
	if s.live != nil {
		s.liveRoutes(rt)
	}
	if s.licences != nil {
		s.licenceRoutes(rt)
	}
	if s.openData != nil {
		s.openDataRoutes(rt)
	}
	routes.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	handle("GET /healthz", s.healthz)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := routes.Handler(r); pattern != "" {
			routes.ServeHTTP(w, r)
			return
		}
		// No route: let the mux decide between 404 and 405 (and redirects),
		// and answer in JSON.
		cw := &captureWriter{header: http.Header{}}
		routes.ServeHTTP(cw, r)
		switch cw.status {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", cw.header.Get("Allow"))
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, msg: "method " + r.Method + " is not allowed here; allowed: " + cw.header.Get("Allow"), field: "method"})
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			w.Header().Set("Location", cw.header.Get("Location"))
			w.WriteHeader(cw.status)
		default:
			writeError(w, &apiError{status: http.StatusNotFound, msg: "no such endpoint: " + r.URL.Path, field: "path"})
		}
	}), nil
}

// featureRoutes registers feature routes: handle(pattern, h) with h wrapped by
// anyToken, admin or dept (the role a caller needs).
type featureRoutes struct {
	handle                func(pattern string, h http.HandlerFunc)
	anyToken, admin, dept func(h handlerFunc) http.HandlerFunc
}

// captureWriter records what the mux would answer for an unrouted request.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts and times a route and logs the request at debug level.
func (s *server) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		s.latency.WithLabelValues(route).Observe(d.Seconds())
		s.log.DebugContext(r.Context(), "api: request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", d)
	})
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}
