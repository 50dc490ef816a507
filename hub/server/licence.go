package server

import (
	"fmt"

	"github.com/tongban/tongban/hub/licence"
)

// newLicences builds the e-licence store (hub/licence) on the hub store and
// the catalog's licence catalogue (licences.yaml), with its metrics on the
// hub registry. It never returns a nil service without an error.
//
// Seal keys are kept by the store (table licence_seals) in this setup;
// production keeps them in a cipher machine (密码机).
func (s *Server) newLicences(f *features) (*licence.Service, error) {
	_ = f // the licence store needs no other feature: verification is audited by the API with f.audit
	svc, err := licence.New(licence.Config{Store: s.db, Catalog: s.cat, Registry: s.reg, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	return svc, nil
}
