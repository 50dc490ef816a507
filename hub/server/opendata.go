package server

import "github.com/tongban/tongban/hub/opendata"

// newOpenData builds the open-data portal. (Placeholder: being built.)
func (s *Server) newOpenData(f *features) (*opendata.Service, error) {
	_ = f
	return &opendata.Service{}, nil
}
