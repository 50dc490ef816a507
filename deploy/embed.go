// Package deploy carries the documented example configuration, so binaries
// (the demo) can write it out on a machine that has no checkout.
package deploy

import "embed"

// Catalog is the example catalog under catalog/.
//
//go:embed catalog
var Catalog embed.FS
