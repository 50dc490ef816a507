package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/ca"
)

// listenTLS opens the mutual-TLS sharing listener when configured: the same
// API handler, over TLS with the hub CA's client-certificate check (unknown,
// revoked or foreign certificates fail the handshake; clients without a
// certificate may still use a bearer token).
func (s *Server) listenTLS(handler http.Handler) error {
	t := s.cfg.Sharing.TLS
	if t.Listen == "" {
		return nil
	}
	authority, err := ca.Load(t.CADir)
	if err != nil {
		return fmt.Errorf("hub: sharing.tls.ca_dir: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return fmt.Errorf("hub: sharing.tls.cert_file / key_file: %w", err)
	}
	cfg := authority.TLSConfig(s.db, cert, ca.TLSOptions{AllowNoClientCert: true, Logger: s.log})
	ln, err := net.Listen("tcp", t.Listen)
	if err != nil {
		return fmt.Errorf("hub: sharing.tls.listen %s: %w", t.Listen, err)
	}
	s.tlsListener = tls.NewListener(ln, cfg)
	s.tlsHTTP = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.tlsHTTP.RegisterOnShutdown(s.feat.live.Close)
	s.log.Info("hub: mutual-TLS sharing listener", "addr", s.tlsListener.Addr().String(), "ca", t.CADir)
	return nil
}

// certPrincipal turns a verified department client certificate into the
// department's principal; its token id is "cert:<serial>" in the audit log.
func certPrincipal(cs tls.ConnectionState) (auth.Principal, bool) {
	dept, ok := ca.DeptFromConn(cs)
	if !ok {
		return auth.Principal{}, false
	}
	serial, _ := ca.ClientSerial(cs)
	return auth.Principal{TokenID: "cert:" + serial, Dept: dept, Role: auth.RoleDept}, true
}
