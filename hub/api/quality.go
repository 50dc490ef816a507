package api

// QualityStore is what the quality routes need. Placeholder: the feature fills it in.
type QualityStore interface{}

// qualityRoutes registers the routes of quarantine (list, filter), quality fixes and scorecards (/quality/...).
func (s *server) qualityRoutes(rt featureRoutes) {}
