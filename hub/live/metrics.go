package live

import (
	"github.com/prometheus/client_golang/prometheus"
)

// routerMetrics are a Router's Prometheus metrics.
type routerMetrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	ignored  prometheus.Counter
	online   *onlineCollector
}

func newMetrics(r *Router) *routerMetrics {
	return &routerMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_live_requests_total",
			Help: "Live lookups by resource and result (found, not_found, agent_error, timeout, offline, busy, bad_request, cancelled, error).",
		}, []string{"resource", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tongban_live_seconds",
			Help:    "Duration of live lookups, from queueing to the agent's answer (or the failure), by resource and result.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"resource", "result"}),
		ignored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tongban_live_answers_ignored_total",
			Help: "Agent answers ignored: unknown or foreign id, or the lookup already timed out or was withdrawn.",
		}),
		online: &onlineCollector{r: r, desc: prometheus.NewDesc("tongban_live_agents_online",
			"Agents polling for live lookups, or within the online window of their last poll, by department.", []string{"dept"}, nil)},
	}
}

func (m *routerMetrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.requests, m.seconds, m.ignored, m.online} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// onlineCollector computes the online agents at scrape time, so an agent
// that stopped polling drops out once its window has passed.
type onlineCollector struct {
	r    *Router
	desc *prometheus.Desc
}

func (c *onlineCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *onlineCollector) Collect(ch chan<- prometheus.Metric) {
	c.r.mu.Lock()
	now := c.r.cfg.Now()
	counts := make(map[string]int, len(c.r.depts))
	for code, d := range c.r.depts {
		counts[code] = c.r.onlineLocked(d, now, "")
	}
	c.r.mu.Unlock()
	for code, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), code)
	}
}
