package objection

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds the store read of one scrape.
const scrapeTimeout = 5 * time.Second

// newCollector returns the collector of s's gauges.
func newCollector(s *Service) *collector {
	return &collector{s: s,
		open: prometheus.NewDesc("tongban_objections_open",
			"Open objections (their mark shown on the field), by status: pending (bureau decides) or forwarded (department verifies).",
			[]string{"status"}, nil),
		overdue: prometheus.NewDesc("tongban_objections_overdue",
			"Open objections past the last day of their stage (decide: 2 working days; verify: 5), dates in Asia/Shanghai.",
			[]string{"stage"}, nil),
	}
}

// collector reads the open and overdue counts from the store on scrape, so
// they are right whichever hub process changed them.
type collector struct {
	s             *Service
	open, overdue *prometheus.Desc
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.overdue
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.s.st.CountObjections(ctx, c.s.today())
	if err != nil {
		c.s.log.ErrorContext(ctx, "objection: metrics: count objections", "err", err)
		ch <- prometheus.NewInvalidMetric(c.open, err)
		return
	}
	for status, n := range counts.Open {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(n), status)
	}
	for stage, n := range counts.Overdue {
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(n), stage)
	}
}
