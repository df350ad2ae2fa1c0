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

use prepaid_host::keys::dev_key;
use prepaid_host::registry::{Action, Listing, MerchantStatus};
use prepaid_host::testkit::workload::{listed_mix, registration};
use prepaid_host::Envelope;
use serde_json::Value;

/// The API keys a load test uses.
pub struct Keys {
    /// The operator's: it submits the events.
    pub operator: String,
    /// A regulator's: it approves the workload's merchant and listing.
    pub regulator: String,
    /// The workload's merchant's: it registers and lists.
    pub merchant: String,
}

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
pub fn run(urls: &[String], keys: &Keys, wallets: usize, clients: usize, seconds: Option<u64>) -> Result<LoadReport> {
    ensure!(!urls.is_empty(), "give at least one service URL");
    ensure!(clients > 0 && wallets > 0, "give at least one client and one wallet");
    ensure!(seconds != Some(0), "`--seconds` must be at least 1");
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("creating the HTTP client")?;
    let listing = &approved_listing(&http, &urls[0], keys)?;
    let key = keys.operator.as_str();
    // Fresh wallet names each run, so runs against one store do not collide.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros());
    let prefix = format!("load-{run_id}");
    // Signed before the clock starts; a timed run signs each new wallet's events as it goes.
    let prepared = match seconds {
        None => listed_mix(&prefix, 0..wallets, usize::MAX, listing)?,
        Some(_) => Vec::new(),
    };
    let per_wallet = prepared.len() / wallets;
    let prepared: Vec<&[Envelope]> = prepared.chunks(per_wallet.max(1)).collect();
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
                            Some(_) => listed_mix(prefix, index..index + 1, usize::MAX, listing)?,
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

/// Sends `body` to `path` of the service at `base` with `key` (a GET without a body),
/// returning the status and the answer.
fn call(
    http: &reqwest::blocking::Client,
    base: &str,
    key: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(reqwest::StatusCode, Value)> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let request = match body {
        Some(body) => http.post(&url).json(body),
        None => http.get(&url),
    };
    let response = request
        .bearer_auth(key)
        .send()
        .with_context(|| format!("calling {url}"))?;
    let status = response.status();
    Ok((
        status,
        response
            .json()
            .with_context(|| format!("reading the answer of {url}"))?,
    ))
}

/// `action` as the body of its route: its fields but the action's name and those the
/// service fills in (`left_out`).
fn body(action: Action, left_out: &[&str]) -> Result<Value> {
    let mut body = serde_json::to_value(action)?;
    let fields = body.as_object_mut().context("an action is an object")?;
    for field in ["action"].iter().chain(left_out) {
        fields.remove(*field);
    }
    Ok(body)
}

/// Registers the workload's merchant and lists its product through the service at `url`,
/// each approved by the regulator (signing with the dev regulator key) unless it already
/// is: a service sells only approved listings.
fn approved_listing(http: &reqwest::blocking::Client, url: &str, keys: &Keys) -> Result<Listing> {
    let (register, submit) = registration();
    let Action::RegisterMerchant { merchant, .. } = &register else {
        unreachable!("the workload registers its merchant first");
    };
    let merchant = merchant.clone();
    let (status, answer) = call(http, url, &keys.merchant, "/v1/merchants", Some(&body(register, &[])?))?;
    ensure!(
        status.is_success() || answer["error"]["code"] == "already_registered",
        "registering the workload's merchant ({status}): {answer}"
    );
    let (_, registered) = call(http, url, &keys.regulator, &format!("/v1/merchants/{merchant}"), None)?;
    if registered["status"] != serde_json::to_value(MerchantStatus::Approved)? {
        let review = serde_json::json!({"decision": "approve", "reason": "load test"});
        let (status, answer) = call(
            http,
            url,
            &keys.regulator,
            &format!("/v1/merchants/{merchant}/review"),
            Some(&review),
        )?;
        ensure!(
            status.is_success(),
            "approving the workload's merchant ({status}): {answer}"
        );
    }
    let (status, answer) = call(
        http,
        url,
        &keys.merchant,
        "/v1/listings",
        Some(&body(submit, &["listing", "merchant"])?),
    )?;
    ensure!(
        status.is_success(),
        "listing the workload's product ({status}): {answer}"
    );
    let id = answer["action"]["listing"]
        .as_str()
        .context("the listing's id")?
        .to_owned();
    let (_, listing) = call(http, url, &keys.regulator, &format!("/v1/listings/{id}"), None)?;
    let listing: Listing = serde_json::from_value(listing).context("reading the listing")?;
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64
        + 86_400;
    let review = serde_json::json!({"decision": "approve", "reason": "load test",
                                    "approval": listing.approve(&dev_key("regulator"), until)?});
    let (status, answer) = call(
        http,
        url,
        &keys.regulator,
        &format!("/v1/listings/{id}/review"),
        Some(&review),
    )?;
    ensure!(
        status.is_success(),
        "approving the workload's listing ({status}): {answer}"
    );
    let (_, listing) = call(http, url, &keys.regulator, &format!("/v1/listings/{id}"), None)?;
    serde_json::from_value(listing).context("reading the approved listing")
}

/// Submits one event and checks that it was recorded and accepted.
fn send(http: &reqwest::blocking::Client, url: &str, key: &str, raw: &Envelope) -> Result<()> {
    let base = url.trim_end_matches('/');
    let endpoint = if raw.kind() == Some("open") {
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
