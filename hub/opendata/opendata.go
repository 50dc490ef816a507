// Package opendata is the open-data portal (开放平台): releases of open
// resources, desensitised, downloadable as CSV and Parquet.
package opendata

// Service is the portal. (Placeholder: being built.)
type Service struct{}
