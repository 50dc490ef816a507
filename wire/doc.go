// Package wire is the Kafka message format between agents and the hub: one
// Arrow IPC stream holding exactly one record batch per message, with tb-*
// headers naming the resource, department, schema fingerprint, batch id,
// operation and partition. It also owns the two rules both sides must agree
// on: how a row's record key is rendered and which partition a subject lands on.
package wire
