package api

// LicenceService is what the licence routes need. (Placeholder: being built.)
type LicenceService interface{}

// licenceRoutes registers the e-licence store's routes.
func (s *server) licenceRoutes(rt featureRoutes) { _ = rt }
