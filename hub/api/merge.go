package api

// MergeStore is what the merge routes need. Placeholder: the feature fills it in.
type MergeStore interface{}

// mergeRoutes registers the routes of golden records (GET /subjects/{type}/{id}, field history), conflicts (list, decide) and notifications.
func (s *server) mergeRoutes(rt featureRoutes) {}
