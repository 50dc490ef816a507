package api

// ObjectionService is what the objections routes need. Placeholder: the feature fills it in.
type ObjectionService interface{}

// objectionRoutes registers the routes of objections on public data: file, list, decide, forward, verify.
func (s *server) objectionRoutes(rt featureRoutes) {}
