// Package server wires the hub: the embedded broker (or a Kafka cluster),
// the store, the catalog and its schema versions, the ingest consumer and the
// HTTP API. cmd/hub runs it; the demo embeds it in-process.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tongban/tongban/broker"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/api"
	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/licence"
	"github.com/tongban/tongban/hub/objection"
	"github.com/tongban/tongban/hub/opendata"
	"github.com/tongban/tongban/hub/scorecard"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/topics"
)

// shutdownGrace bounds how long Close waits for HTTP requests in flight.
const shutdownGrace = 10 * time.Second

// Server is a hub ready to run (New) or running (Start).
type Server struct {
	cfg      Config
	log      *slog.Logger
	broker   *broker.Broker // nil with an external Kafka
	brokers  []string
	db       *store.DB
	cat      *catalog.Catalog
	reg      *prometheus.Registry
	ingester *ingest.Ingester
	feat     *features
	http     *http.Server
	listener net.Listener
	// The mutual-TLS sharing listener (nil when sharing.tls.listen is "").
	tlsHTTP     *http.Server
	tlsListener net.Listener

	errc      chan error // component failures
	cancel    context.CancelFunc
	ingestWG  sync.WaitGroup
	httpWG    sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
	closeErr  error
}

// New prepares a hub: it loads the catalog, opens the store, records the
// catalog's schema versions (refusing an incompatible change), starts the
// embedded broker if configured, creates the topics and binds the API
// listener. Nothing is consumed or served until Start. On error everything
// already opened is closed again.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (_ *Server, err error) {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: logger, errc: make(chan error, 2)}
	defer func() {
		if err != nil {
			_ = s.closeResources()
		}
	}()

	s.cat, err = catalog.Load(cfg.CatalogDir)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	logger.InfoContext(ctx, "hub: catalog loaded", "dir", cfg.CatalogDir, "departments", len(s.cat.Departments), "resources", len(s.cat.Resources))

	s.db, err = store.Open(ctx, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	logger.InfoContext(ctx, "hub: store open", "driver", s.db.Driver())

	synced, err := ingest.SyncSchemas(ctx, s.db, s.cat.Resources)
	if err != nil {
		return nil, fmt.Errorf("hub: catalog %s does not match the recorded schema versions:\n%w", cfg.CatalogDir, err)
	}
	for _, r := range synced {
		if r.Added {
			logger.InfoContext(ctx, "hub: schema version recorded", "resource", r.Resource, "version", r.Version, "fingerprint", r.Fingerprint)
		}
	}

	if cfg.Kafka.IsEmbedded() {
		s.broker, err = broker.Start(ctx, broker.Config{Addr: cfg.Kafka.Embedded.Addr, Dir: cfg.Kafka.Embedded.Dir, Partitions: cfg.Kafka.Partitions})
		if err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
		s.brokers = []string{s.broker.Addr()}
		logger.InfoContext(ctx, "hub: embedded broker started", "addr", s.broker.Addr(), "dir", cfg.Kafka.Embedded.Dir)
	} else {
		s.brokers = cfg.Kafka.Brokers
	}
	if err := topics.Ensure(ctx, s.brokers, map[string]int{
		cfg.Kafka.IngestTopic: cfg.Kafka.Partitions, cfg.Kafka.DeadLetterTopic: cfg.Kafka.Partitions,
	}); err != nil {
		return nil, fmt.Errorf("hub: kafka %v: %w", s.brokers, err)
	}
	if n, err := topics.Partitions(ctx, s.brokers, cfg.Kafka.IngestTopic); err != nil {
		return nil, fmt.Errorf("hub: kafka %v: %w", s.brokers, err)
	} else if n != cfg.Kafka.Partitions {
		logger.WarnContext(ctx, "hub: the ingest topic exists with another partition count than configured; it is used as it is",
			"topic", cfg.Kafka.IngestTopic, "partitions", n, "configured", cfg.Kafka.Partitions)
	}

	s.reg = prometheus.NewRegistry()
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.feat, err = s.newFeatures(ctx)
	if err != nil {
		return nil, err
	}
	icfg := ingest.Config{
		Brokers: s.brokers, Topic: cfg.Kafka.IngestTopic, DeadLetterTopic: cfg.Kafka.DeadLetterTopic, GroupID: cfg.Kafka.GroupID,
		Store: s.db, Catalog: s.cat, Registry: s.reg, Logger: logger,
		Merger: ingestMerger{m: s.feat.merger, p: s.feat.publisher},
	}
	if cfg.Quality.Checks {
		icfg.Quality = s.db
	}
	s.ingester, err = ingest.New(icfg)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	handler, err := api.New(api.Config{Store: s.db, Catalog: s.cat, Ingest: s.ingester, Registry: s.reg, Logger: logger,
		Merge: s.db, Quality: s.db, Objections: s.feat.objections,
		Sharing: s.feat.sharing, Audit: s.feat.audit, AuditLog: s.db, ShareRead: s.db,
		ShareLimits:   api.ShareLimits{Rate: cfg.Sharing.Rate, Burst: cfg.Sharing.Burst, DailyQuota: cfg.Sharing.DailyQuota},
		CertPrincipal: certPrincipal, Live: s.feat.live, Licences: s.feat.licences, OpenData: s.feat.openData})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	s.listener, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("hub: listen on %s: %w", cfg.Listen, err)
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Agents' live polls hang for up to 30 s: end them at shutdown.
	s.http.RegisterOnShutdown(s.feat.live.Close)
	if err := s.listenTLS(handler); err != nil {
		return nil, err
	}
	return s, nil
}

// Start begins consuming and serving. Cancelling ctx stops consumption
// (Close does the rest); component failures arrive on Err.
func (s *Server) Start(ctx context.Context) {
	s.startOnce.Do(func() {
		runCtx, cancel := context.WithCancel(ctx)
		s.cancel = cancel
		s.ingestWG.Add(1)
		go func() {
			defer s.ingestWG.Done()
			if err := s.ingester.Run(runCtx); err != nil {
				s.fail(fmt.Errorf("hub: ingest: %w", err))
			}
		}()
		// The change feed and the scorecards stop with the ingest (runCtx).
		s.ingestWG.Add(2)
		go func() {
			defer s.ingestWG.Done()
			if err := s.feat.publisher.Run(runCtx); err != nil {
				s.fail(fmt.Errorf("hub: golden change feed: %w", err))
			}
		}()
		go func() {
			defer s.ingestWG.Done()
			if err := s.feat.scorer.Run(runCtx); err != nil {
				s.fail(fmt.Errorf("hub: quality scorecards: %w", err))
			}
		}()
		s.httpWG.Add(1)
		go func() {
			defer s.httpWG.Done()
			if err := s.http.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.fail(fmt.Errorf("hub: http: %w", err))
			}
		}()
		if s.tlsHTTP != nil {
			s.httpWG.Add(1)
			go func() {
				defer s.httpWG.Done()
				if err := s.tlsHTTP.Serve(s.tlsListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
					s.fail(fmt.Errorf("hub: mutual-TLS listener: %w", err))
				}
			}()
		}
		s.log.InfoContext(ctx, "hub: running", "api", s.APIURL(), "metrics", s.APIURL()+"/metrics",
			"brokers", s.brokers, "ingest_topic", s.cfg.Kafka.IngestTopic, "group", s.cfg.Kafka.GroupID)
	})
}

func (s *Server) fail(err error) {
	s.log.Error("hub: component failed", "err", err)
	select {
	case s.errc <- err:
	default:
	}
}

// Err delivers the failure of a component (the ingest reader closing for
// good, the HTTP listener failing).
func (s *Server) Err() <-chan error { return s.errc }

// Close stops the hub: ingest finishes its group in flight and commits, the
// API drains its requests, then the store and the embedded broker close.
// It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.ingestWG.Wait()
		var errs []error
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			if err := s.http.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("hub: http shutdown: %w", err))
			}
			if s.tlsHTTP != nil {
				if err := s.tlsHTTP.Shutdown(ctx); err != nil {
					errs = append(errs, fmt.Errorf("hub: mutual-TLS listener shutdown: %w", err))
				}
			}
			cancel()
			s.httpWG.Wait()
		}
		errs = append(errs, s.closeResources())
		s.closeErr = errors.Join(errs...)
		s.log.Info("hub: stopped")
	})
	return s.closeErr
}

// closeResources closes what New opened, in reverse order.
func (s *Server) closeResources() error {
	var errs []error
	if s.listener != nil && s.cancel == nil {
		_ = s.listener.Close() // never served
	}
	if s.tlsListener != nil && s.cancel == nil {
		_ = s.tlsListener.Close()
	}
	if s.ingester != nil {
		if err := s.ingester.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.feat != nil && s.feat.audit != nil {
		// The API has drained: write what is queued before the store closes.
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		if err := s.feat.audit.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("hub: audit log: %w", err))
		}
		cancel()
	}
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.broker != nil {
		s.broker.Close()
	}
	return errors.Join(errs...)
}

// Run runs a hub until ctx is cancelled or a component fails, then closes it.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	s, err := New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	s.Start(ctx)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-s.Err():
	}
	return errors.Join(runErr, s.Close())
}

// APIAddr is the address the API listens on (host:port).
func (s *Server) APIAddr() string { return s.listener.Addr().String() }

// TLSAddr is the address of the mutual-TLS listener ("" when off).
func (s *Server) TLSAddr() string {
	if s.tlsListener == nil {
		return ""
	}
	return s.tlsListener.Addr().String()
}

// APIURL is the base URL of the API server (http://host:port).
func (s *Server) APIURL() string { return "http://" + s.APIAddr() }

// BrokerAddrs are the Kafka bootstrap addresses in use (the embedded
// broker's address when embedded).
func (s *Server) BrokerAddrs() []string { return append([]string(nil), s.brokers...) }

// Store is the hub store (for token commands and the demo's checks).
func (s *Server) Store() *store.DB { return s.db }

// Catalog is the loaded catalog.
func (s *Server) Catalog() *catalog.Catalog { return s.cat }

// Registry holds the hub's metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// IngestStats are the ingest counters since start.
func (s *Server) IngestStats() ingest.Stats { return s.ingester.Stats() }

// Objections is the hub's objection service.
func (s *Server) Objections() *objection.Service { return s.feat.objections }

// Scorer is the hub's quality scorer.
func (s *Server) Scorer() *scorecard.Scorer { return s.feat.scorer }

// Licences is the e-licence store.
func (s *Server) Licences() *licence.Service { return s.feat.licences }

// OpenData is the open-data portal.
func (s *Server) OpenData() *opendata.Service { return s.feat.openData }

// Config is the configuration the hub runs with.
func (s *Server) Config() Config { return s.cfg }
