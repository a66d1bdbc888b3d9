package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/regen-dev/regen/executor/engine"
)

// metrics are the executor's Prometheus metrics, on their own registry.
type metrics struct {
	reg         *prometheus.Registry
	prompts     *prometheus.CounterVec
	rejected    prometheus.Counter
	nodeSeconds *prometheus.HistogramVec
	steps       prometheus.Counter
}

func newMetrics(queueDepth func() int) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.prompts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "regen", Subsystem: "executor", Name: "prompts_total",
		Help: "Prompts executed, by outcome (success, error, interrupted).",
	}, []string{"outcome"})
	m.rejected = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "regen", Subsystem: "executor", Name: "prompts_rejected_total",
		Help: "Prompts rejected at validation (HTTP 400).",
	})
	m.nodeSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "regen", Subsystem: "executor", Name: "node_execution_seconds",
		Help:    "Time to execute one node (over all its list items), by class.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	}, []string{"class"})
	m.steps = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "regen", Subsystem: "executor", Name: "sampler_steps_total",
		Help: "Sampler progress steps reported by nodes.",
	})
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "regen", Subsystem: "executor", Name: "queue_depth",
		Help: "Prompts waiting in the queue (not counting the running one).",
	}, func() float64 { return float64(queueDepth()) })
	m.reg.MustRegister(m.prompts, m.rejected, m.nodeSeconds, m.steps, depth,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, o := range []string{engine.OutcomeSuccess, engine.OutcomeError, engine.OutcomeInterrupted} {
		m.prompts.WithLabelValues(o)
	}
	return m
}
