package fleet

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics the fleet records. A nil *Metrics
// records nothing. Each server process counts what it did itself: with
// replicas, sum the counters and merge the histograms across them.
type Metrics struct {
	creation         prometheus.Histogram
	destroys         *prometheus.CounterVec
	creationFailures *prometheus.CounterVec
	standbyLeases    *prometheus.CounterVec
}

// NewMetrics registers the fleet's metrics on reg and returns them. Its
// error is reg's, e.g. a prometheus.AlreadyRegisteredError when reg holds
// them already (give each server its own prometheus.Registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		creation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dynpool_worker_creation_seconds",
			Help: "Time from asking the provider for a new worker to its agent's registration, in seconds.",
			// From a local process (a fraction of a second) to a cloud
			// machine that boots for minutes: 0.25 s to 512 s.
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
		}),
		destroys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dynpool_worker_destroys_total",
			Help: "Workers whose end was recorded (destroyed or lost), by destroy reason (idle-timeout, max-lifetime, worker-lost, ...).",
		}, []string{"reason"}),
		creationFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dynpool_worker_creation_failures_total",
			Help: "Provider errors when creating a worker, by provider.",
		}, []string{"provider"}),
		standbyLeases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dynpool_standby_leases_total",
			Help: "Steps that found no idle worker of their tenant: result=hit when a standby worker was leased, result=miss when one had to be created.",
		}, []string{"result"}),
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.creation, m.destroys, m.creationFailures, m.standbyLeases} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// init makes the series of a provider, and the standby hits and misses,
// exist at zero before they first count, so a rate over them is defined
// from the start.
func (m *Metrics) init(provider string) {
	if m != nil {
		m.creationFailures.WithLabelValues(provider)
		m.standbyLeases.WithLabelValues("hit")
		m.standbyLeases.WithLabelValues("miss")
	}
}

// standbyLease counts a step that found no idle worker of its tenant.
func (m *Metrics) standbyLease(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.standbyLeases.WithLabelValues("hit").Inc()
	} else {
		m.standbyLeases.WithLabelValues("miss").Inc()
	}
}

func (m *Metrics) created(d time.Duration) {
	if m != nil {
		m.creation.Observe(d.Seconds())
	}
}

func (m *Metrics) destroyed(reason string) {
	if m != nil {
		m.destroys.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) creationFailed(provider string) {
	if m != nil {
		m.creationFailures.WithLabelValues(provider).Inc()
	}
}
