//! `prepaid loadtest`: the standard event mix sent to running services over HTTP by many
//! clients at once, measured as events per second and latency percentiles.
//!
//! Each client takes whole wallets, so a wallet's events go in order; with several service
//! URLs the events of one wallet alternate between them, so the services race on the same
//! wallets through their shared store. Every response must be a recorded, accepted event.

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
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} events from {} clients to {} service(s) in {:.2} s: {:.0} events/s, p50 {:.2} ms, p99 {:.2} ms",
            self.events, self.clients, self.services, self.seconds, self.events_per_second, self.p50_ms, self.p99_ms
        )
    }
}

/// Sends the standard mix for `wallets` new wallets to `urls` from `clients` threads.
pub fn run(urls: &[String], key: &str, wallets: usize, clients: usize) -> Result<LoadReport> {
    ensure!(!urls.is_empty(), "give at least one service URL");
    ensure!(clients > 0 && wallets > 0, "give at least one client and one wallet");
    // Fresh wallet names each run, so runs against one store do not collide.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros());
    let events = mix(&format!("load-{run_id}"), 0..wallets, usize::MAX)?;
    let per_wallet = events.len() / wallets;
    let wallets: Vec<&[Envelope]> = events.chunks(per_wallet).collect();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("creating the HTTP client")?;
    let started = Instant::now();
    let mut latencies = std::thread::scope(|scope| -> Result<Vec<Duration>> {
        let workers: Vec<_> = (0..clients)
            .map(|client| {
                let (http, wallets) = (&http, &wallets);
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let mut latencies = Vec::new();
                    for (index, wallet) in wallets.iter().enumerate().skip(client).step_by(clients) {
                        for (step, raw) in wallet.iter().enumerate() {
                            let url = &urls[(index + step) % urls.len()];
                            let sent = Instant::now();
                            send(http, url, key, raw)?;
                            latencies.push(sent.elapsed());
                        }
                    }
                    Ok(latencies)
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.join().map_err(|_| anyhow!("a client panicked"))??);
        }
        Ok(all)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)].as_secs_f64() * 1e3;
    Ok(LoadReport {
        services: urls.len(),
        clients,
        events: latencies.len(),
        seconds,
        events_per_second: latencies.len() as f64 / seconds,
        p50_ms: percentile(50),
        p99_ms: percentile(99),
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
    let response = http
        .post(&endpoint)
        .bearer_auth(key)
        .json(raw)
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
