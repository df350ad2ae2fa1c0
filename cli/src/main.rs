//! `prepaid`: run scenarios, verify journals, show the demo, serve the API, measure; the
//! command-line face of the `prepaid_host` library.

mod args;
mod bench;
mod demo;
mod loadtest;
mod platform;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use prepaid_host::ledger::Contracts;
use prepaid_host::outcome::sha256_hex;
use prepaid_host::service::auth::ApiKeys;
use prepaid_host::service::Service;
use prepaid_host::store::postgres::PostgresConfig;
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::testkit::scenario::{self, Scenario};
use prepaid_host::testkit::snapshot;
use prepaid_host::trust::untrusted_wallets;
use prepaid_host::verify::{printable, verify_with_progress, Report};
use prepaid_host::{Clock, Ledger, StoreConfig, Trust};

pub(crate) use args::ComponentArg;
use args::{Cli, Command, ContractCommand, JournalCommand, OutboxCommand, ScenarioCommand};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        // A reader that stopped reading (`| head`) is not an error worth a message; exit
        // as a tool killed by SIGPIPE would.
        Err(error)
            if error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(141)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scenario {
            command:
                ScenarioCommand::Run {
                    file,
                    db,
                    snapshot,
                    update_snapshot,
                    component,
                    cache,
                },
        } => {
            let scenario = Scenario::load(&file)?;
            let temp = tempfile::tempdir().context("creating a temporary journal")?;
            let db = db.unwrap_or_else(|| temp.path().join("journal.db"));
            let ledger = component.ledger(StoreConfig::Sqlite(db), cache.engine()?, Clock::Scripted)?;
            let run = scenario::run(&scenario, &ledger, &mut std::io::stdout().lock())?;
            for mismatch in &run.mismatches {
                eprintln!("expect failed: {mismatch}");
            }
            for (step, code) in &run.unchecked_rejections {
                eprintln!("note: step {step} was rejected ({code}) and has no `expect` saying that is intended");
            }
            let trace_matches = match snapshot {
                None => true,
                Some(path) => check_snapshot(&path, &snapshot::trace(&run), update_snapshot)?,
            };
            Ok(if run.mismatches.is_empty() && trace_matches {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Verify {
            db,
            bundle,
            json,
            trust,
            cache,
        } => {
            let journal = match (db, bundle) {
                (Some(db), _) => SqliteStore::open_read_only(&db)?,
                (None, Some(bundle)) => SqliteStore::open_bundle(&bundle)?,
                (None, None) => unreachable!("clap requires --db or --bundle"),
            };
            let progress = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("verifying {bar:40} {pos}/{len} wallets, {eta} left")
                    .expect("a valid template"),
            );
            let report = verify_with_progress(
                &journal,
                &Contracts::new(args::engine(cache.as_deref())?),
                |done, total| {
                    progress.set_length(total as u64);
                    progress.set_position(done as u64);
                },
            )?;
            progress.finish_and_clear();
            let untrusted = match trust {
                Some(path) => untrusted_wallets(&journal, &Trust::load(&path)?)?,
                None => Vec::new(),
            };
            if json {
                let mut document = serde_json::to_value(&report)?;
                document["untrusted"] = serde_json::to_value(&untrusted)?;
                println!("{document}");
            } else {
                print_report(&report);
                for wallet in &untrusted {
                    println!(
                        "UNTRUSTED wallet {}: {}",
                        printable(&wallet.wallet),
                        printable(&wallet.reason)
                    );
                }
            }
            Ok(if report.is_clean() && untrusted.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Apply {
            db,
            file,
            batch,
            trust,
            component,
            cache,
        } => {
            let mut ledger = component.ledger(StoreConfig::Sqlite(db), cache.engine()?, Clock::System)?;
            if let Some(path) = trust {
                ledger = ledger.with_trust(Trust::load(&path)?);
            }
            match file {
                Some(file) => {
                    let file = std::fs::File::open(&file).with_context(|| format!("reading {}", file.display()))?;
                    platform::apply(&ledger, &mut std::io::BufReader::new(file), batch)
                }
                None => platform::apply(&ledger, &mut std::io::stdin().lock(), batch),
            }
        }
        Command::Tick { db, limit, cache } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            platform::tick(&Ledger::open(StoreConfig::Sqlite(db), cache.engine()?)?, limit)
        }
        Command::Keygen { out } => platform::keygen(&out),
        Command::Sign { key, approve } => platform::sign(&key, approve),
        Command::Wallet { id, db, json, cache } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            platform::wallet(&Ledger::open(StoreConfig::Sqlite(db), cache.engine()?)?, &id, json)
        }
        Command::Outbox {
            command: OutboxCommand::List { db, limit },
        } => platform::outbox_list(&db, limit),
        Command::Outbox {
            command: OutboxCommand::Ack { db, effect_ids, claim },
        } => platform::outbox_ack(&db, &effect_ids, claim.as_deref()),
        Command::Journal {
            command: JournalCommand::Export { db, wallet, out },
        } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            let (wallets, entries) = SqliteStore::open(&db)?.export(&out, wallet.as_deref())?;
            println!(
                "wrote {}: {}, {} and the components they pin",
                out.display(),
                count(wallets, "wallet", "wallets"),
                count(entries, "entry", "entries")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { db, component, cache } => {
            let ledger = demo::fresh_ledger(&db, &component, cache.engine()?)?;
            demo::run(&ledger, &db)
        }
        Command::Bench {
            wallets,
            rounds,
            scale,
            json,
            component,
        } => {
            let bytes = component.bytes()?;
            let dir = tempfile::tempdir().context("creating a temporary journal")?;
            let report = bench::run(&bytes, wallets, rounds, dir.path())?;
            let scale = match scale {
                Some(large) => {
                    vec![
                        bench::scale_point(&bytes, 1000, rounds, dir.path())?,
                        bench::scale_point(&bytes, large, rounds, dir.path())?,
                    ]
                }
                None => Vec::new(),
            };
            if json {
                println!("{}", serde_json::json!({"paths": report, "scale": scale}));
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
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            listen,
            db,
            postgres,
            postgres_ca,
            keys,
            trust,
            max_connections,
            tick_every,
            component,
            cache,
        } => {
            let Some(trust) = trust else {
                anyhow::bail!(
                    "serve needs --trust FILE (or PREPAID_TRUST): the regulators whose approval an `open` \
                     may carry and the components wallets may open on. Without it, anyone who can post \
                     an `open` could name their own key as regulator and approve their own terms."
                );
            };
            let trust = Trust::load(&trust)?;
            let keys = ApiKeys::load(&keys)?;
            let store = match postgres {
                Some(url) => StoreConfig::Postgres(match postgres_ca {
                    Some(ca) => PostgresConfig::new(url).with_tls_ca(ca),
                    None => PostgresConfig::new(url),
                }),
                None => StoreConfig::Sqlite(db),
            };
            let ledger = component.ledger(store, cache.engine()?, Clock::System)?;
            let current = ledger.current().unwrap_or_default();
            if !trust.trusts_component(&current) {
                anyhow::bail!(
                    "the component {current} is not in the trust file, so no wallet could be opened; \
                     add its code hash to `components` or serve a listed one"
                );
            }
            let ledger = ledger.with_trust(trust).with_max_connections(max_connections);
            let service = Service::new(ledger, keys).with_tick_every(std::time::Duration::from_secs(tick_every));
            platform::serve(listen, service)
        }
        Command::Loadtest {
            urls,
            key,
            wallets,
            clients,
            seconds,
            json,
        } => {
            let report = loadtest::run(&urls, &key, wallets, clients, seconds)?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Contract {
            command: ContractCommand::Hash { file },
        } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            println!("{}", sha256_hex(&bytes));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_bench(report: &bench::BenchReport) {
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
    println!(
        "start: compiling {:.1} ms, from the artifact cache {:.2} ms ({:.0}× faster)",
        report.cold_start_ms,
        report.warm_start_ms,
        report.cold_start_ms / report.warm_start_ms
    );
}

/// Checks (or, with `update`, writes) the golden trace at `path`; says what differs.
fn check_snapshot(path: &Path, trace: &str, update: bool) -> Result<bool> {
    if update {
        std::fs::write(path, trace).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote the snapshot {}", path.display());
        return Ok(true);
    }
    let recorded = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading the snapshot {} (write it with --update-snapshot)",
            path.display()
        )
    })?;
    match snapshot::diff(&recorded, trace) {
        None => Ok(true),
        Some(diff) => {
            eprintln!(
                "the run differs from the snapshot {}; if the change is intended, accept it with --update-snapshot\n{diff}",
                path.display()
            );
            Ok(false)
        }
    }
}

pub(crate) fn print_report(report: &Report) {
    for code_hash in &report.components {
        println!("component {code_hash}: bytes match the code hash");
    }
    for divergence in &report.divergences {
        println!("DIVERGENCE {divergence}");
    }
    let verdict = if report.is_clean() { "clean" } else { "DIVERGED" };
    println!(
        "verify: {}, {} replayed with their pinned code: {verdict}",
        count(report.wallets, "wallet", "wallets"),
        count(report.entries, "entry", "entries")
    );
}

/// `n` things, in the grammatical number `n` asks for.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
