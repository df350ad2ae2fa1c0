//! `prepaid bench`: the standard event mix through the native rules, the component in
//! memory, and the component with the durable SQLite journal, measured in one run and
//! reported as events per second and ratios.
//!
//! The mix, per wallet: open a 10-session pack, the rail's report of its payment, request
//! 2 sessions, authorize them, request 1, authorize it, refund after the cooling-off
//! period. Events are signed before
//! timing starts; the contract's own signature checks are part of what is timed.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use serde::Serialize;

use prepaid_host::registry::{Action, Actor, MerchantClosure};
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::Ack;
use prepaid_host::testkit::workload::{self, approved_listing, listed_mix, mix, registration, standard_mix};
use prepaid_host::verify::{verify_with_progress, Checks};
use prepaid_host::Contracts;
use prepaid_host::NativeRules;
use prepaid_host::Rules;
use prepaid_host::{Clock, ContractEngine, Envelope, Ledger, StoreConfig};

use crate::args::BenchArgs;

/// Wallets opened per group commit when populating a journal: small, so the population
/// leaves little freed memory behind in the allocator to blur the memory figure.
const POPULATION_CHUNK: usize = 500;

/// Events committed together on the group-commit path.
const GROUP_COMMIT: usize = 100;

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
    /// Threads submitting events.
    pub threads: usize,
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
    fn new(name: &'static str, threads: usize, events: usize, elapsed: Duration) -> Measurement {
        let seconds = elapsed.as_secs_f64();
        Measurement {
            name,
            threads,
            events,
            seconds,
            events_per_second: events as f64 / seconds,
            micros_per_event: seconds * 1e6 / events as f64,
        }
    }
}

/// Throughput and memory with a journal of a given size.
#[derive(Clone, Debug, Serialize)]
pub struct ScalePoint {
    /// Wallets in the journal before the measured events.
    pub wallets: usize,
    /// Events per second of the standard mix, group-committed, on top of them.
    pub events_per_second: f64,
    /// The process's resident memory afterwards, MiB.
    pub resident_mib: f64,
    /// Seconds to sign a checkpoint of every wallet's head and write its file.
    pub checkpoint_seconds: f64,
}

/// Group-commit throughput of the standard mix on 2,000 new wallets, on a journal already
/// holding `population` open wallets: the fastest of `rounds` runs, each on wallets of its
/// own.
pub fn scale_point(component: &[u8], population: usize, rounds: usize, dir: &Path) -> Result<ScalePoint> {
    let ledger = sqlite_ledger(&dir.join(format!("scale-{population}.db")), component)?;
    let progress = indicatif::ProgressBar::new(population as u64)
        .with_message(format!("opening {population} wallets"))
        .with_style(indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}").expect("a valid template"));
    for start in (0..population).step_by(POPULATION_CHUNK) {
        let opens = mix("population", start..population.min(start + POPULATION_CHUNK), 1)?;
        for result in ledger.submit_batch(&opens)? {
            ensure!(result?.verdict.ok, "an open was rejected");
        }
        progress.set_position(population.min(start + POPULATION_CHUNK) as u64);
    }
    progress.finish_and_clear();
    let mut events = 0;
    let fastest = fastest(rounds, |round| {
        let mix = mix(&format!("bench{round}"), 0..2000, usize::MAX)?;
        events = mix.len();
        let started = Instant::now();
        submit_grouped(&ledger, &mix)?;
        Ok(started.elapsed())
    })?;
    let resident_mib = resident_mib();
    let started = Instant::now();
    let checkpoint = ledger.checkpoint(&prepaid_host::keys::generate_key()?)?;
    std::fs::write(dir.join(format!("scale-{population}.checkpoint")), checkpoint.to_file())?;
    let checkpoint_seconds = started.elapsed().as_secs_f64();
    Ok(ScalePoint {
        wallets: population,
        events_per_second: events as f64 / fastest.as_secs_f64(),
        resident_mib,
        checkpoint_seconds,
    })
}

/// Closing a merchant: how long the platform takes to apply a closure to every wallet.
#[derive(Clone, Debug, Serialize)]
pub struct ClosurePoint {
    /// The merchant's wallets, each holding money.
    pub wallets: usize,
    /// Seconds from the closure's date to the merchant recorded closed.
    pub seconds: f64,
    /// What the closure's report says it refunded, yuan.
    pub refunded: String,
}

/// Opens `wallets` wallets of the workload's listing on a new SQLite journal in `dir`,
/// records the merchant's closure for a second later (a platform that gives no notice, so
/// the run does not wait 30 days), and times applying it to them all.
pub fn closure_point(component: &[u8], wallets: usize, dir: &Path) -> Result<ClosurePoint> {
    let ledger = listed_wallets(component, &[], wallets, &dir.join("closure.db"))?;
    let effective = now()? + 1;
    let Action::RegisterMerchant { merchant, .. } = registration().0 else {
        unreachable!("the workload registers its merchant first");
    };
    let closure = MerchantClosure::sign(&prepaid_host::keys::dev_key("regulator"), &merchant, effective)?;
    let by = Actor {
        role: "regulator".into(),
        name: "bench".into(),
    };
    ledger.platform().record_change(
        by,
        Action::CloseMerchant {
            merchant,
            reason: "bench".into(),
            closure,
        },
    )?;
    while now()? < effective {
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = Instant::now();
    let reports = ledger.platform().close_due_merchants(|_| {})?;
    let seconds = started.elapsed().as_secs_f64();
    let [(_, report)] = reports.as_slice() else {
        anyhow::bail!("expected one closure applied, got {}", reports.len());
    };
    ensure!(
        report.closed == wallets as u64 && report.refused.is_empty(),
        "the closure closed {} of {wallets} wallets: {:?}",
        report.closed,
        report.refused
    );
    Ok(ClosurePoint {
        wallets,
        seconds,
        refunded: report.refunded.clone(),
    })
}

/// The time by the system clock, as the ledger stamps events.
fn now() -> Result<i64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64)
}

/// A ledger on a new SQLite journal at `journal` selling the workload's listing on
/// `component`, trusting it and the components `also`, with `wallets` wallets opened on
/// it, each holding money.
fn listed_wallets(component: &[u8], also: &[&[u8]], wallets: usize, journal: &Path) -> Result<Ledger> {
    let ledger = Ledger::open(StoreConfig::Sqlite(journal.to_owned()), ContractEngine::new()?)?.with_registry(0)?;
    let mut trust = workload::trust(&ledger.install(component)?);
    for bytes in also {
        trust.components.push(prepaid_host::outcome::sha256_hex(bytes));
    }
    let ledger = ledger.with_trust(trust);
    let listing = approved_listing(&ledger, now()? + 86_400)?;
    let progress = indicatif::ProgressBar::new(wallets as u64)
        .with_message(format!("opening {wallets} wallets"))
        .with_style(indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}").expect("a valid template"));
    for start in (0..wallets).step_by(POPULATION_CHUNK) {
        let end = wallets.min(start + POPULATION_CHUNK);
        // Sent as a client sends them, without their scripted times: the platform's clock
        // stamps them, as it will stamp what the run then times.
        let opens: Vec<Envelope> = listed_mix("listed", start..end, 1, &listing)?
            .iter()
            .map(Envelope::untimed)
            .collect();
        submit_grouped(&ledger, &opens)?;
        progress.set_position(end as u64);
    }
    progress.finish_and_clear();
    Ok(ledger)
}

/// Moving wallets onto new code: the plan, the migrations, and replay across the change.
#[derive(Clone, Debug, Serialize)]
pub struct MigrationPoint {
    /// The live wallets, each holding money.
    pub wallets: usize,
    /// Seconds to plan moving them all.
    pub plan_seconds: f64,
    /// Seconds to sign and hand in the migrations the plan foresees.
    pub migration_seconds: f64,
    /// Wallets moved.
    pub moved: usize,
    /// Wallets waiting for their consumer's consent.
    pub waiting: usize,
    /// Seconds for `verify` to replay the journal across the change.
    pub verify_seconds: f64,
}

/// Opens `wallets` wallets of the workload's listing on `component`, then times the plan
/// of moving them onto `to`, the migrations under the workload's regulator's signature,
/// and a replay of the whole journal, which must be clean.
pub fn migration_point(component: &[u8], to: &[u8], wallets: usize, dir: &Path) -> Result<MigrationPoint> {
    let ledger = listed_wallets(component, &[to], wallets, &dir.join("migration.db"))?;
    ledger.install(to)?;
    let started = Instant::now();
    let plan = ledger.plan_migration(to)?;
    let plan_seconds = started.elapsed().as_secs_f64();
    ensure!(
        plan.wallets.len() == wallets && plan.unplanned.is_empty(),
        "the plan covers {} of {wallets} wallets",
        plan.wallets.len()
    );
    let planned = prepaid_host::plan::Plan::read(&serde_json::to_string(&plan)?)?;
    let started = Instant::now();
    let results = ledger.migrate_as_planned(&planned, &prepaid_host::keys::dev_key("regulator"));
    let migration_seconds = started.elapsed().as_secs_f64();
    let (mut moved, mut waiting) = (0, 0);
    for (wallet, result) in results {
        let result = result.with_context(|| format!("{wallet} is not the workload regulator's"))?;
        match result.with_context(|| format!("migrating {wallet}"))? {
            prepaid_host::Migrated::Moved(_) => moved += 1,
            prepaid_host::Migrated::Waiting => waiting += 1,
        }
    }
    let started = Instant::now();
    let report = ledger.verify()?;
    let verify_seconds = started.elapsed().as_secs_f64();
    ensure!(
        report.is_clean(),
        "the journal does not replay clean: {:?}",
        report.divergences
    );
    Ok(MigrationPoint {
        wallets,
        plan_seconds,
        migration_seconds,
        moved,
        waiting,
        verify_seconds,
    })
}

/// Submits `events` in group commits of [`GROUP_COMMIT`], insisting each is accepted.
fn submit_grouped(ledger: &Ledger, events: &[Envelope]) -> Result<()> {
    for batch in events.chunks(GROUP_COMMIT) {
        for result in ledger.submit_batch(batch)? {
            ensure!(result?.verdict.ok, "the ledger rejected an event");
        }
    }
    Ok(())
}

/// A ledger over a new SQLite journal at `path`, `component` installed.
fn sqlite_ledger(path: &Path, component: &[u8]) -> Result<Ledger> {
    // The standard mix is a history written in advance: its events carry their times.
    let ledger =
        Ledger::open(StoreConfig::Sqlite(path.to_path_buf()), ContractEngine::new()?)?.with_clock(Clock::Scripted);
    ledger.install(component)?;
    Ok(ledger)
}

/// This process's resident set size, MiB (0 where /proc is not there).
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kib.unwrap_or(0.0) / 1024.0
}

/// Applies `events` through `rules` in memory, threading each wallet's state; returns how
/// many were accepted.
fn run_in_memory(rules: &dyn Rules, events: &[Envelope]) -> Result<usize> {
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

/// The fastest of `rounds` runs of `path`, which returns how long its timed part took.
fn fastest(rounds: usize, mut path: impl FnMut(usize) -> Result<Duration>) -> Result<Duration> {
    let mut best = Duration::MAX;
    for round in 0..rounds.max(1) {
        best = best.min(path(round)?);
    }
    Ok(best)
}

/// Runs every path over `wallets` wallets, `rounds` times each (the fastest round counts:
/// the others were slowed by something else on the machine), journaling and caching in
/// `dir`.
pub fn measure(component: &[u8], wallets: usize, rounds: usize, dir: &Path) -> Result<BenchReport> {
    let events = standard_mix(wallets)?;
    let count = events.len();
    let cache = dir.join("cache");
    let cold_start = fastest(rounds, |round| {
        let engine = ContractEngine::new()?.with_cache(&cache.join(round.to_string()))?;
        let started = Instant::now();
        engine.load(component)?;
        Ok(started.elapsed())
    })?;
    let engine = ContractEngine::new()?.with_cache(&cache.join("0"))?;
    let warm_start = fastest(rounds, |_| {
        let started = Instant::now();
        engine.load(component)?;
        Ok(started.elapsed())
    })?;
    let wasm = engine.load(component)?;

    let in_memory = |rules: &dyn Rules| {
        let started = Instant::now();
        let accepted = run_in_memory(rules, &events)?;
        ensure!(accepted == count, "{} of the mix were rejected", count - accepted);
        Ok(started.elapsed())
    };
    // The two are measured in alternate rounds, so that whatever else slows the machine
    // for a while weighs on both sides of their ratio alike.
    let (mut native, mut in_wasm) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds.max(1) {
        native = native.min(in_memory(&NativeRules)?);
        in_wasm = in_wasm.min(in_memory(&wasm)?);
    }
    let native = Measurement::new("native rules", 1, count, native);
    let in_wasm = Measurement::new("wasm, in memory (fresh instance per event)", 1, count, in_wasm);

    let journal = |round: usize| dir.join(format!("bench-{round}.db"));
    let durable = fastest(rounds, |round| {
        let ledger = sqlite_ledger(&journal(round), component)?;
        let started = Instant::now();
        for raw in &events {
            ensure!(ledger.submit(raw)?.verdict.ok, "the ledger rejected {}", raw.id);
        }
        Ok(started.elapsed())
    })?;
    let durable = Measurement::new("wasm + SQLite journal (one transaction per event)", 1, count, durable);
    let grouped = fastest(rounds, |round| {
        let ledger = sqlite_ledger(&dir.join(format!("grouped-{round}.db")), component)?;
        let started = Instant::now();
        submit_grouped(&ledger, &events)?;
        Ok(started.elapsed())
    })?;
    let grouped = Measurement::new("same, group commit of 100 events", 1, count, grouped);

    // More threads than cores: while some wait for their group commit, others compute.
    let threads = 4 * std::thread::available_parallelism().map_or(2, usize::from);
    let parallel = fastest(rounds, |round| {
        let ledger = sqlite_ledger(&dir.join(format!("shared-{round}.db")), component)?;
        // Whole wallets to a thread: a wallet's events in order.
        let per_wallet = workload::events_per_wallet();
        let per_thread = count.div_ceil(threads * per_wallet) * per_wallet;
        let started = Instant::now();
        std::thread::scope(|scope| -> Result<()> {
            let workers: Vec<_> = events
                .chunks(per_thread)
                .map(|chunk| {
                    let ledger = &ledger;
                    scope.spawn(move || -> Result<()> {
                        for raw in chunk {
                            ensure!(ledger.submit(raw)?.verdict.ok, "the ledger rejected {}", raw.id);
                        }
                        Ok(())
                    })
                })
                .collect();
            workers
                .into_iter()
                .try_for_each(|worker| worker.join().map_err(|_| anyhow::anyhow!("a worker panicked"))?)
        })?;
        Ok(started.elapsed())
    })?;
    let parallel = Measurement::new(
        "same, wallets on 4 threads a core, one writer",
        threads,
        count,
        parallel,
    );

    // The payment rail has paid every effect, and the platform signed a checkpoint: verify
    // then has every acknowledgement to check, and every wallet to hold to the checkpoint.
    let platform = sqlite_ledger(&journal(0), component)?;
    let effects = platform.pending_effects(usize::MAX)?;
    let acks: Vec<Ack> = effects
        .into_iter()
        .enumerate()
        .map(|(n, effect)| Ack::paid(effect.effect_id, format!("RAIL-{n}")))
        .collect();
    platform.ack_effects(&acks, None)?;
    let checkpoint = platform.checkpoint(&prepaid_host::keys::generate_key()?)?;
    drop(platform);
    let journal = SqliteStore::open(&journal(0))?;
    let contracts = Contracts::new(ContractEngine::new()?);
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let verify = |name: &'static str, checks: Checks| -> Result<Measurement> {
        let mut entries = 0;
        let verified = fastest(rounds, |_| {
            let started = Instant::now();
            let report = verify_with_progress(&journal, &contracts, &checks, |_, _| {})?;
            ensure!(report.is_clean(), "verify found divergences: {:?}", report.divergences);
            entries = report.entries;
            Ok(started.elapsed())
        })?;
        Ok(Measurement::new(name, workers, entries, verified))
    };
    let replayed = verify(
        "verify, replay alone",
        Checks {
            replay_only: true,
            ..Checks::default()
        },
    )?;
    let verified = verify(
        "verify, with outbox, acknowledgements, checkpoint",
        Checks {
            checkpoint: checkpoint.leaves,
            ..Checks::default()
        },
    )?;

    Ok(BenchReport {
        paths: vec![native, in_wasm, durable, grouped, parallel, replayed, verified],
        cold_start_ms: cold_start.as_secs_f64() * 1e3,
        warm_start_ms: warm_start.as_secs_f64() * 1e3,
    })
}

/// Runs `prepaid bench` with `args`.
pub(crate) fn command(args: BenchArgs) -> Result<ExitCode> {
    let BenchArgs {
        wallets,
        rounds,
        scale,
        closure,
        migration,
        migrate_to,
        json,
        component,
    } = args;
    let bytes = component.bytes()?;
    let dir = tempfile::tempdir().context("creating a temporary journal")?;
    let report = measure(&bytes, wallets, rounds, dir.path())?;
    let scale = match scale {
        Some(large) => {
            vec![
                scale_point(&bytes, 1000, rounds, dir.path())?,
                scale_point(&bytes, large, rounds, dir.path())?,
            ]
        }
        None => Vec::new(),
    };
    let closure = closure
        .map(|wallets| closure_point(&bytes, wallets, dir.path()))
        .transpose()?;
    let migration = match (migration, migrate_to) {
        (Some(wallets), Some(to)) => {
            let to = std::fs::read(&to).with_context(|| format!("reading the component {}", to.display()))?;
            Some(migration_point(&bytes, &to, wallets, dir.path())?)
        }
        _ => None,
    };
    if json {
        println!(
            "{}",
            serde_json::json!({"paths": report, "scale": scale, "closure": closure, "migration": migration})
        );
    } else {
        print_bench(&report);
        if let [small, large] = scale.as_slice() {
            println!(
            "scale: {} wallets {:.0} events/s, {:.0} MiB; {} wallets {:.0} events/s ({:.2}× of the former), {:.0} MiB",
            small.wallets,
            small.events_per_second,
            small.resident_mib,
            large.wallets,
            large.events_per_second,
            large.events_per_second / small.events_per_second,
            large.resident_mib
        );
            println!(
                "checkpoint: {} wallets in {:.2} s; {} wallets in {:.2} s",
                small.wallets, small.checkpoint_seconds, large.wallets, large.checkpoint_seconds
            );
        }
        if let Some(closure) = closure {
            println!(
                "closure: a merchant of {} wallets closed in {:.2} s ({:.0} wallets/s), {} refunded",
                closure.wallets,
                closure.seconds,
                closure.wallets as f64 / closure.seconds,
                closure.refunded
            );
        }
        if let Some(migration) = migration {
            println!(
                "migration: {} wallets planned in {:.2} s, {} moved and {} waiting for consent in {:.2} s \
                 ({:.0} wallets/s); verify across the change {:.2} s, clean",
                migration.wallets,
                migration.plan_seconds,
                migration.moved,
                migration.waiting,
                migration.migration_seconds,
                migration.wallets as f64 / migration.migration_seconds,
                migration.verify_seconds
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_bench(report: &BenchReport) {
    let native = report.paths[0].events_per_second;
    println!(
        "{:<52} {:>8} {:>12} {:>10} {:>16}",
        "path", "events", "events/s", "µs/event", "cost vs native"
    );
    for m in &report.paths {
        println!(
            "{:<52} {:>8} {:>12.0} {:>10.1} {:>15.2}×",
            m.name,
            m.events,
            m.events_per_second,
            m.micros_per_event,
            native / m.events_per_second
        );
    }
    if let [.., replayed, verified] = report.paths.as_slice() {
        println!(
            "verify with outbox, acknowledgements and checkpoint: {:.2}× the throughput of replay alone",
            verified.events_per_second / replayed.events_per_second
        );
    }
    println!(
        "start: compiling {:.1} ms, from the artifact cache {:.2} ms ({:.0}× faster)",
        report.cold_start_ms,
        report.warm_start_ms,
        report.cold_start_ms / report.warm_start_ms
    );
}
