// Package monitoring holds the Prometheus alert rules (alerts.yaml) and the
// Grafana dashboard (grafana/) for Tongban; its test checks that they only
// use metrics the agent and the hub define.
package monitoring
