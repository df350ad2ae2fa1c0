//! `prepaid bench`: the standard event mix through the native rules, the component in
//! memory, and the component with the durable SQLite journal, measured in one run and
//! reported as events per second and ratios.
//!
//! The mix, per wallet: open a 10-session pack, request 2 sessions, authorize them,
//! request 1, authorize it, refund after the cooling-off period. Events are signed before
//! timing starts; the contract's own signature checks are part of what is timed.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use serde::Serialize;
use serde_json::json;

use crate::engine::ContractEngine;
use crate::ledger::Ledger;
use crate::native::NativeRules;
use crate::raw_event::RawEvent;
use crate::rules::Rules;
use crate::scenario::Step;
use crate::verify::verify;

/// Everything one run measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// The event paths, native first.
    pub paths: Vec<Measurement>,
    /// Loading the component with an empty artifact cache (compiling it), milliseconds.
    pub cold_start_ms: f64,
    /// Loading it again from the cache, milliseconds.
    pub warm_start_ms: f64,
}

/// One measured path.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// What was measured.
    pub name: &'static str,
    /// Events processed.
    pub events: usize,
    /// Wall time.
    pub seconds: f64,
    /// Events per second.
    pub events_per_second: f64,
    /// Microseconds per event.
    pub micros_per_event: f64,
}

impl Measurement {
    fn new(name: &'static str, events: usize, elapsed: Duration) -> Measurement {
        let seconds = elapsed.as_secs_f64();
        Measurement {
            name,
            events,
            seconds,
            events_per_second: events as f64 / seconds,
            micros_per_event: seconds * 1e6 / events as f64,
        }
    }
}

/// The standard mix for `wallets` wallets, signed with dev keys.
pub fn standard_mix(wallets: usize) -> Result<Vec<RawEvent>> {
    let mut events = Vec::with_capacity(wallets * 6);
    for index in 0..wallets {
        let wallet = format!("bench-{index}");
        let steps = [
            (
                "2026-01-05T09:00:00Z",
                "consumer",
                json!({"type": "open", "consumer": "consumer", "merchant": "merchant", "regulator": "regulator",
                "product": {"kind": "sessions", "sessions": 10, "price": "2400.00", "list_price": "300.00"},
                "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0, "max_price": "5000.00"}}),
            ),
            (
                "2026-01-06T09:00:00Z",
                "merchant",
                json!({"type": "request", "request": "r1", "units": 2}),
            ),
            (
                "2026-01-06T09:05:00Z",
                "consumer",
                json!({"type": "authorize", "request": "r1"}),
            ),
            (
                "2026-01-20T09:00:00Z",
                "merchant",
                json!({"type": "request", "request": "r2", "units": 1}),
            ),
            (
                "2026-01-20T09:05:00Z",
                "consumer",
                json!({"type": "authorize", "request": "r2"}),
            ),
            ("2026-02-10T09:00:00Z", "consumer", json!({"type": "refund"})),
        ];
        for (step_index, (at, by, event)) in steps.into_iter().enumerate() {
            let step = Step {
                at: at.into(),
                wallet: wallet.clone(),
                by: Some(by.into()),
                event,
                id: None,
                expect: None,
            };
            events.push(step.raw_event(step_index)?);
        }
    }
    Ok(events)
}

/// Applies `events` through `rules` in memory, threading each wallet's state; returns how
/// many were accepted.
fn run_in_memory(rules: &dyn Rules, events: &[RawEvent]) -> Result<usize> {
    let mut states: HashMap<&str, Vec<u8>> = HashMap::new();
    let mut accepted = 0;
    for raw in events {
        let outcome = rules.apply(
            states.get(raw.wallet.as_str()).map(Vec::as_slice),
            &raw.context()?,
            &raw.body(),
        )?;
        if let Some(state) = outcome.state {
            accepted += 1;
            states.insert(&raw.wallet, state);
        }
    }
    Ok(accepted)
}

/// Runs every path over `wallets` wallets, journaling (and caching) in `dir`.
pub fn run(component: &[u8], wallets: usize, dir: &Path) -> Result<BenchReport> {
    let events = standard_mix(wallets)?;
    let cache = dir.join("cache");
    let (cold, warm) = (
        ContractEngine::new()?.with_cache(&cache)?,
        ContractEngine::new()?.with_cache(&cache)?,
    );
    let started = Instant::now();
    cold.load(component)?;
    let cold_start = started.elapsed();
    let started = Instant::now();
    let wasm = warm.load(component)?;
    let warm_start = started.elapsed();

    let started = Instant::now();
    let accepted = run_in_memory(&NativeRules, &events)?;
    let native = Measurement::new("native rules", events.len(), started.elapsed());
    ensure!(
        accepted == events.len(),
        "the native rules rejected {} of the mix",
        events.len() - accepted
    );

    let started = Instant::now();
    let accepted = run_in_memory(&wasm, &events)?;
    let in_memory = Measurement::new(
        "wasm, in memory (fresh instance per event)",
        events.len(),
        started.elapsed(),
    );
    ensure!(
        accepted == events.len(),
        "the component rejected {} of the mix",
        events.len() - accepted
    );

    let mut ledger = Ledger::open(&dir.join("bench.db"))?;
    ledger.install(component)?;
    let started = Instant::now();
    for raw in &events {
        ensure!(ledger.submit(raw)?.verdict.ok, "the ledger rejected {}", raw.id);
    }
    let durable = Measurement::new(
        "wasm + SQLite journal (one transaction per event)",
        events.len(),
        started.elapsed(),
    );

    let started = Instant::now();
    let report = verify(ledger.journal())?;
    let verified = Measurement::new("verify (replay from the journal)", report.entries, started.elapsed());
    ensure!(report.is_clean(), "verify found divergences: {:?}", report.divergences);

    Ok(BenchReport {
        paths: vec![native, in_memory, durable, verified],
        cold_start_ms: cold_start.as_secs_f64() * 1e3,
        warm_start_ms: warm_start.as_secs_f64() * 1e3,
    })
}
