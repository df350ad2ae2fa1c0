//! `prepaid loadtest`: the standard event mix sent to running services over HTTP by many
//! clients at once, measured as events per second and latency percentiles.
//!
//! Each client takes whole wallets, so a wallet's events go in order; with several service
//! URLs the events of one wallet alternate between them, so the services race on the same
//! wallets through their shared store. Every response must be a recorded, accepted event.
//! Run for a set time (`--seconds`), the report also gives throughput and latency second by
//! second, so a sag over time shows.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context as _, Result};
use serde::Serialize;

use prepaid_host::testkit::workload::mix;
use prepaid_host::Envelope;

/// What one load test measured.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    /// The services driven.
    pub services: usize,
    /// Clients sending at once.
    pub clients: usize,
    /// Events sent (all accepted).
    pub events: usize,
    /// Wall time.
    pub seconds: f64,
    /// Events per second.
    pub events_per_second: f64,
    /// Median request latency, milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile request latency, milliseconds.
    pub p99_ms: f64,
    /// Second by second, for a run of a set time (empty otherwise).
    pub intervals: Vec<Interval>,
}

/// One second of a timed run: the events answered in it.
#[derive(Clone, Debug, Serialize)]
pub struct Interval {
    /// Seconds since the start at which the interval begins.
    pub second: u64,
    /// Events answered in the interval (so also events per second).
    pub events: usize,
    /// Median latency of those events, milliseconds.
    pub p50_ms: f64,
    /// Their 99th-percentile latency, milliseconds.
    pub p99_ms: f64,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} events from {} clients to {} service(s) in {:.2} s: {:.0} events/s, p50 {:.2} ms, p99 {:.2} ms",
            self.events, self.clients, self.services, self.seconds, self.events_per_second, self.p50_ms, self.p99_ms
        )?;
        for interval in &self.intervals {
            write!(
                f,
                "\n  second {:>3}: {:>6} events/s, p50 {:.2} ms, p99 {:.2} ms",
                interval.second, interval.events, interval.p50_ms, interval.p99_ms
            )?;
        }
        Ok(())
    }
}

/// The `p`th percentile of sorted `latencies`, milliseconds.
fn percentile(latencies: &[Duration], p: usize) -> f64 {
    latencies[(latencies.len() * p / 100).min(latencies.len() - 1)].as_secs_f64() * 1e3
}

/// Sends the standard mix for `wallets` new wallets to `urls` from `clients` threads; or,
/// with `seconds`, for new wallets one after another until that time has passed.
pub fn run(urls: &[String], key: &str, wallets: usize, clients: usize, seconds: Option<u64>) -> Result<LoadReport> {
    ensure!(!urls.is_empty(), "give at least one service URL");
    ensure!(clients > 0 && wallets > 0, "give at least one client and one wallet");
    ensure!(seconds != Some(0), "`--seconds` must be at least 1");
    // Fresh wallet names each run, so runs against one store do not collide.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros());
    let prefix = format!("load-{run_id}");
    // Signed before the clock starts; a timed run signs each new wallet's events as it goes.
    let prepared = match seconds {
        None => mix(&prefix, 0..wallets, usize::MAX)?,
        Some(_) => Vec::new(),
    };
    let per_wallet = prepared.len() / wallets;
    let prepared: Vec<&[Envelope]> = prepared.chunks(per_wallet.max(1)).collect();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("creating the HTTP client")?;
    let deadline = seconds.map(Duration::from_secs);
    let started = Instant::now();
    // Per event: when its answer came, since the start, and how long it took.
    let mut samples = std::thread::scope(|scope| -> Result<Vec<(Duration, Duration)>> {
        let workers: Vec<_> = (0..clients)
            .map(|client| {
                let (http, prepared, prefix) = (&http, &prepared, &prefix);
                scope.spawn(move || -> Result<Vec<(Duration, Duration)>> {
                    let mut samples = Vec::new();
                    for index in (client..).step_by(clients) {
                        let events = match deadline {
                            Some(deadline) if started.elapsed() >= deadline => break,
                            Some(_) => mix(prefix, index..index + 1, usize::MAX)?,
                            None if index >= prepared.len() => break,
                            None => prepared[index].to_vec(),
                        };
                        for (step, raw) in events.iter().enumerate() {
                            let url = &urls[(index + step) % urls.len()];
                            let sent = Instant::now();
                            send(http, url, key, raw)?;
                            samples.push((started.elapsed(), sent.elapsed()));
                        }
                    }
                    Ok(samples)
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.join().map_err(|_| anyhow!("a client panicked"))??);
        }
        Ok(all)
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    samples.sort();
    let mut intervals = Vec::new();
    if deadline.is_some() {
        for chunk in samples.chunk_by(|a, b| a.0.as_secs() == b.0.as_secs()) {
            let mut latencies: Vec<Duration> = chunk.iter().map(|(_, latency)| *latency).collect();
            latencies.sort();
            intervals.push(Interval {
                second: chunk[0].0.as_secs(),
                events: latencies.len(),
                p50_ms: percentile(&latencies, 50),
                p99_ms: percentile(&latencies, 99),
            });
        }
    }
    let mut latencies: Vec<Duration> = samples.iter().map(|(_, latency)| *latency).collect();
    latencies.sort();
    ensure!(!latencies.is_empty(), "no event was sent");
    Ok(LoadReport {
        services: urls.len(),
        clients,
        events: latencies.len(),
        seconds: elapsed,
        events_per_second: latencies.len() as f64 / elapsed,
        p50_ms: percentile(&latencies, 50),
        p99_ms: percentile(&latencies, 99),
        intervals,
    })
}

/// Submits one event and checks that it was recorded and accepted.
fn send(http: &reqwest::blocking::Client, url: &str, key: &str, raw: &Envelope) -> Result<()> {
    let base = url.trim_end_matches('/');
    let endpoint = if raw.event.get("type").and_then(|kind| kind.as_str()) == Some("open") {
        format!("{base}/v1/wallets")
    } else {
        format!("{base}/v1/wallets/{}/events", raw.wallet)
    };
    // As a client sends it: without a time, which the service stamps.
    let response = http
        .post(&endpoint)
        .bearer_auth(key)
        .json(&raw.untimed())
        .send()
        .with_context(|| format!("sending event {} to {endpoint}", raw.id))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .with_context(|| format!("reading the answer to {}", raw.id))?;
    ensure!(
        status.is_success() && body["ok"] == true,
        "event {} of wallet {} was not accepted ({status}): {body}",
        raw.id,
        raw.wallet
    );
    Ok(())
}
