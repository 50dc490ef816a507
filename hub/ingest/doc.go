// Package ingest is the hub's consumer of the ingest topic. It reads Arrow
// record batches (see package wire) as a Kafka consumer group, checks each one
// against the catalog and the resource's known schema versions, turns the
// rows into department-library records and applies a group of messages in one
// store transaction. Offsets are committed only after that transaction
// commits, so a crash redelivers, and the store's version rule makes the
// redelivery a no-op.
//
// A group holds the accepted messages of one resource (a message of another
// resource waits to start the next group), so the rows applied and skipped
// that the store reports per transaction are exact per resource.
//
// A message that fails a check is a dead letter: it is copied to the
// dead-letter topic with the reason, recorded in the store, counted, logged,
// and its offset is committed, so it never blocks its partition. A store that
// cannot be reached is not the message's fault: the group is retried with
// backoff and nothing is committed until it succeeds.
package ingest
