package task

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics the runner records. A nil *Metrics
// records nothing. Each server process counts the steps it runs.
type Metrics struct {
	acquisition prometheus.Histogram
	waiting     *prometheus.GaugeVec
}

// NewMetrics registers the runner's metrics on reg and returns them. Its
// error is reg's, e.g. a prometheus.AlreadyRegisteredError when reg holds
// them already (give each server its own prometheus.Registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		acquisition: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dynpool_worker_acquisition_seconds",
			Help: "Time from a step asking for a worker to getting one (an idle one leased, or a new one registered), in seconds; steps that got none are not counted.",
			// From an idle worker leased at once (milliseconds) to the
			// default lease timeout (10 min).
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}),
		waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dynpool_steps_waiting",
			Help: "Steps currently waiting for a worker, by tenant id.",
		}, []string{"tenant"}),
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.acquisition, m.waiting} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// waitStarted counts a step of tenant as waiting for a worker until the
// returned func is called. A tenant's series stays (at zero) once its
// steps stop waiting, so its cardinality is the number of tenants that
// ever waited since the server started.
func (m *Metrics) waitStarted(tenant string) (done func()) {
	if m == nil {
		return func() {}
	}
	g := m.waiting.WithLabelValues(tenant)
	g.Inc()
	return g.Dec
}

func (m *Metrics) acquired(d time.Duration) {
	if m != nil {
		m.acquisition.Observe(d.Seconds())
	}
}
