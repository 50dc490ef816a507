package api

// OpenDataService is what the open-data routes need. (Placeholder: being built.)
type OpenDataService interface{}

// openDataRoutes registers the open-data portal's routes (public ones
// through rt.handle, without a token).
func (s *server) openDataRoutes(rt featureRoutes) { _ = rt }
