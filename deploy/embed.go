// Package deploy carries the documented example configuration, so binaries
// (the demo) can write it out on a machine that has no checkout.
package deploy

import "embed"

// Catalog is the example catalog under catalog/.
//
//go:embed catalog
var Catalog embed.FS

// Sharing is the example sharing lists under sharing/ (scenarios, negative
// list, responsibility list).
//
//go:embed sharing
var Sharing embed.FS

// Calendar is the working-day calendar under calendar/: public holidays and
// make-up working days from the State Council notices.
//
//go:embed calendar/cn-public-holidays.yaml
var Calendar []byte

// CalendarFile is the name Calendar is read under, for messages.
const CalendarFile = "deploy/calendar/cn-public-holidays.yaml (built in)"
