package server

import (
	"fmt"

	"github.com/tongban/tongban/hub/opendata"
)

// newOpenData builds the open-data portal on the hub store and catalog, with
// its release files under open_data.dir (created by the first publication).
func (s *Server) newOpenData(f *features) (*opendata.Service, error) {
	_ = f
	svc, err := opendata.New(opendata.Config{Store: s.db, Catalog: s.cat, Dir: s.cfg.OpenData.Dir, Registry: s.reg, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("hub: open_data.dir %q: %w", s.cfg.OpenData.Dir, err)
	}
	return svc, nil
}
