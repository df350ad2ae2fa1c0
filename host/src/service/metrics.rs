//! The service's Prometheus metrics.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Counters and histograms of one service, in a registry of its own.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by route template, method and status.
    pub requests: IntCounterVec,
    /// Request latency by route template.
    pub latency: HistogramVec,
    /// Submitted events by result: accepted, rejected (by the contract), replayed.
    pub events: IntCounterVec,
    /// Submissions that lost their wallet's race to another writer and ran again.
    pub conflicts: IntGauge,
    /// The regulator's alerts raised now, by kind.
    pub alerts: IntGaugeVec,
    /// Money frozen in wallets now, in fen, by industry.
    pub frozen: IntGaugeVec,
}

impl Metrics {
    /// Fresh metrics.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "prepaid_http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("prepaid_http_request_seconds", "HTTP request latency by route")
                .buckets(prometheus::exponential_buckets(0.000_25, 2.0, 14).expect("valid buckets")),
            &["route"],
        )
        .expect("valid metric");
        let events = IntCounterVec::new(
            Opts::new("prepaid_events_total", "Submitted events by result"),
            &["result"],
        )
        .expect("valid metric");
        let conflicts = IntGauge::new(
            "prepaid_store_conflicts",
            "Submissions that lost their wallet's race to another writer and ran again",
        )
        .expect("valid metric");
        let alerts = IntGaugeVec::new(
            Opts::new("prepaid_alerts", "The regulator's risk alerts raised now, by kind"),
            &["kind"],
        )
        .expect("valid metric");
        let frozen = IntGaugeVec::new(
            Opts::new("prepaid_frozen_fen", "Money frozen in wallets now, in fen, by industry"),
            &["industry"],
        )
        .expect("valid metric");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(events.clone()),
            Box::new(conflicts.clone()),
            Box::new(alerts.clone()),
            Box::new(frozen.clone()),
        ] {
            registry.register(metric).expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            latency,
            events,
            conflicts,
            alerts,
            frozen,
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("metrics encode");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}
