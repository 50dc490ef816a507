// Package merge builds golden records (一数一源): every field of a subject's
// golden record takes its value from exactly one authoritative source, named
// in the catalog's subjects.yaml, and the other sources carrying the same
// datum only cross-check it (多源校核). A disagreement that survives
// normalisation (Normalize) becomes a conflict for the bureau to decide; it
// never silently overwrites the authority's value.
//
// Compute is pure; Merger reads a batch of subjects' source records from the
// store, computes and writes the outcome in one transaction.
package merge
