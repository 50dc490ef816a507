package server

import "github.com/tongban/tongban/hub/licence"

// newLicences builds the e-licence store. (Placeholder: being built.)
func (s *Server) newLicences(f *features) (*licence.Service, error) {
	_ = f
	return &licence.Service{}, nil
}
