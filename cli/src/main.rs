//! `prepaid`: run scenarios, verify journals, show the demo, serve the API, measure; the
//! command-line face of the `prepaid_host` library.

mod args;
mod bench;
mod demo;
mod loadtest;
mod platform;
mod supervision;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use prepaid_host::contracts::Contracts;
use prepaid_host::outcome::sha256_hex;
use prepaid_host::service::auth::ApiKeys;
use prepaid_host::service::Service;
use prepaid_host::signed::{note, proven_leaves, Checkpoint, TreeHead};
use prepaid_host::store::postgres::PostgresConfig;
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::Store as _;
use prepaid_host::testkit::scenario::{self, Scenario};
use prepaid_host::testkit::snapshot;
use prepaid_host::verify::untrusted_wallets;
use prepaid_host::verify::{printable, verify_with_progress, Checks, Coverage, Divergence, Report};
use prepaid_host::{Clock, Ledger, StoreConfig, Trust};

pub(crate) use args::ComponentArg;
use args::{
    CheckpointCommand, Cli, Command, ContractCommand, JournalCommand, OutboxCommand, ReceiptCommand, ScenarioCommand,
};

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
            checkpoint,
            platform_key,
            expect_code_hash,
            wallet,
        } => {
            let journal = open_journal(db.as_deref(), bundle.as_deref())?;
            let mut checks = Checks {
                code_hashes: expect_code_hash,
                ..Checks::default()
            };
            let signed_by = match (checkpoint, platform_key) {
                (Some(path), Some(key)) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading the checkpoint {}", path.display()))?;
                    let (note, wallets) =
                        note::split(&text).with_context(|| format!("the checkpoint {}", path.display()))?;
                    let head =
                        TreeHead::open(note, &key).with_context(|| format!("the checkpoint {}", path.display()))?;
                    if wallets.is_empty() && head.size > 0 {
                        // The note alone, as GET /v1/checkpoint serves it: a bundle's
                        // proofs must lead to it.
                        if bundle.is_none() {
                            anyhow::bail!(
                                "{} is a checkpoint's note without its wallets, which can hold a bundle (through \
                                 its proofs) but not a journal: get the whole file (GET /v1/checkpoint?leaves=true)",
                                path.display()
                            );
                        }
                        checks.coverage = Coverage::Journal;
                        let (_, leaves) = proven_leaves(journal.proofs()?, &key, Some(&head))?;
                        checks.checkpoint = leaves;
                    } else {
                        // A bundle answers for the wallets it holds, each held to its line.
                        if bundle.is_some() {
                            checks.coverage = Coverage::Journal;
                        }
                        checks.checkpoint = Checkpoint::read(&text, &key)
                            .with_context(|| format!("the checkpoint {}", path.display()))?
                            .leaves;
                    }
                    vec![head]
                }
                (None, Some(key)) => {
                    if bundle.is_none() {
                        anyhow::bail!(
                            "--platform-key alone holds a bundle to the proofs it carries; hold a journal to a \
                             checkpoint with --checkpoint FILE"
                        );
                    }
                    checks.coverage = Coverage::Journal;
                    let (head, leaves) = proven_leaves(journal.proofs()?, &key, None).context("the bundle's proofs")?;
                    checks.checkpoint = leaves;
                    vec![head]
                }
                (_, None) => Vec::new(),
            };
            let progress = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("verifying {bar:40} {pos}/{len} wallets, {eta} left")
                    .expect("a valid template"),
            );
            let mut report = verify_with_progress(
                &journal,
                &Contracts::new(args::engine(cache.as_deref())?),
                &checks,
                |done, total| {
                    progress.set_length(total as u64);
                    progress.set_position(done as u64);
                },
            )?;
            progress.finish_and_clear();
            // The wallets the auditor asked for must be there: a bundle of another wallet,
            // or of none, verifies clean of nothing.
            for wallet in &wallet {
                if journal.wallet(wallet)?.is_none() {
                    report.divergences.push(Divergence {
                        wallet: wallet.clone(),
                        seq: 0,
                        field: "wallet".into(),
                        recorded: "no such wallet".into(),
                        replayed: "the wallet asked for (--wallet)".into(),
                        against: "the request",
                        fuel_only: false,
                    });
                }
            }
            if report.wallets == 0 && !signed_by.is_empty() {
                anyhow::bail!("the journal holds no wallet to hold to the checkpoint");
            }
            let untrusted = match trust {
                Some(path) => untrusted_wallets(&journal, &Trust::load(&path)?)?,
                None => Vec::new(),
            };
            if json {
                let mut document = serde_json::to_value(&report)?;
                document["untrusted"] = serde_json::to_value(&untrusted)?;
                document["checkpoints"] = signed_by.iter().map(|head| head.note.clone()).collect();
                println!("{document}");
            } else {
                for head in &signed_by {
                    println!(
                        "checkpoint of {}: {}, signed by the platform key",
                        head.time,
                        count(head.size as usize, "wallet", "wallets")
                    );
                }
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
        Command::Regulator { command } => supervision::regulator(command),
        Command::Buy { consumer, wallet, id } => supervision::buy(&consumer, &wallet, &id),
        Command::Stats {
            db,
            from,
            to,
            merchant,
            industry,
            district,
            group_by,
            json,
        } => {
            let query = prepaid_host::stats::Query {
                from,
                to,
                merchant,
                industry: industry
                    .map(|industry| supervision::word("industry", &industry))
                    .transpose()?,
                district,
                group_by: supervision::word("group-by", &group_by)?,
            };
            supervision::stats(&db, query, json)
        }
        Command::Reconcile { db, statement, json } => supervision::reconcile(&db, &statement, json),
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
            command:
                OutboxCommand::Ack {
                    db,
                    effect_ids,
                    claim,
                    reference,
                },
        } => platform::outbox_ack(&db, &effect_ids, reference.as_deref(), claim.as_deref()),
        Command::Journal {
            command:
                JournalCommand::Export {
                    db,
                    wallet,
                    out,
                    checkpoint,
                    platform_key,
                },
        } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            let checkpoint = match (checkpoint, platform_key) {
                (Some(path), Some(key)) => Some(read_checkpoint(&path, &key)?),
                _ => None,
            };
            let (wallets, entries) = SqliteStore::open(&db)?.export(&out, wallet.as_deref(), checkpoint.as_ref())?;
            println!(
                "wrote {}: {}, {}, their outbox and the components they pin{}",
                out.display(),
                count(wallets, "wallet", "wallets"),
                count(entries, "entry", "entries"),
                match &checkpoint {
                    Some(checkpoint) => format!(", with their proofs from the checkpoint of {}", checkpoint.head.time),
                    None => String::new(),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Checkpoint {
            command: None,
            db: Some(db),
            key: Some(key),
            out: Some(out),
        } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            let key = prepaid_host::keys::read_key_file(&key)?;
            let checkpoint = prepaid_host::signed::checkpoint(SqliteStore::open_read_only(&db)?.leaves()?, &key)?;
            write_new(&out, &checkpoint.to_file())?;
            println!(
                "wrote {}: the checkpoint of {}, {}",
                out.display(),
                checkpoint.head.time,
                count(checkpoint.head.size as usize, "wallet", "wallets")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Checkpoint { command: None, .. } => unreachable!("clap requires --db, --key and --out"),
        Command::Checkpoint {
            command:
                Some(CheckpointCommand::Check {
                    old,
                    new,
                    platform_key,
                    db,
                    bundle,
                }),
            ..
        } => {
            let (old, new) = (
                read_checkpoint(&old, &platform_key)?,
                read_checkpoint(&new, &platform_key)?,
            );
            let journal = open_journal(db.as_deref(), bundle.as_deref())?;
            let coverage = match bundle {
                Some(_) => Coverage::Journal,
                None => Coverage::Checkpoint,
            };
            let divergences = prepaid_host::verify::extends(&journal, &old, &new, coverage)?;
            for divergence in &divergences {
                println!("DIVERGENCE {divergence}");
            }
            let verdict = if divergences.is_empty() {
                "extends it"
            } else {
                "DOES NOT EXTEND it"
            };
            println!(
                "checkpoint of {} ({}) against that of {} ({}): {verdict}",
                new.head.time,
                count(new.head.size as usize, "wallet", "wallets"),
                old.head.time,
                count(old.head.size as usize, "wallet", "wallets"),
            );
            Ok(if divergences.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Receipt {
            command:
                ReceiptCommand::Check {
                    receipt,
                    bundle,
                    db,
                    platform_key,
                },
        } => {
            let text = std::fs::read_to_string(&receipt).with_context(|| format!("reading {}", receipt.display()))?;
            let receipt = prepaid_host::signed::Receipt::open(&text, &platform_key)
                .with_context(|| format!("reading the receipt {}", receipt.display()))?;
            let journal = open_journal(db.as_deref(), bundle.as_deref())?;
            let place = format!(
                "wallet {}, seq {}, event {} at {}",
                printable(&receipt.wallet),
                receipt.seq,
                printable(&receipt.event_id),
                receipt.at
            );
            match prepaid_host::verify::receipt_entry(&journal, &receipt)? {
                Ok(_) => {
                    println!("held: the journal holds exactly the receipt's entry ({place})");
                    Ok(ExitCode::SUCCESS)
                }
                Err(why) => {
                    println!("NOT HELD: {place}: {}", printable(&why));
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Demo { db, component, cache } => {
            let ledger = demo::fresh_ledger(&db, &component, cache.engine()?)?;
            demo::run(&ledger, &db)
        }
        Command::Bench {
            wallets,
            rounds,
            scale,
            closure,
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
            let closure = closure
                .map(|wallets| bench::closure_point(&bytes, wallets, dir.path()))
                .transpose()?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"paths": report, "scale": scale, "closure": closure})
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
            platform_key,
            checkpoint_every,
            closure_notice_days,
            component,
            cache,
        } => {
            let platform_key = prepaid_host::keys::read_key_file(&platform_key)?;
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
            let ledger = ledger
                .with_trust(trust)
                .with_registry(closure_notice_days)
                .with_max_connections(max_connections);
            let service = Service::new(ledger, keys, platform_key)
                .with_tick_every(std::time::Duration::from_secs(tick_every))
                .with_checkpoint_every(std::time::Duration::from_secs(checkpoint_every));
            platform::serve(listen, service)
        }
        Command::Loadtest {
            urls,
            key,
            regulator_key,
            merchant_key,
            wallets,
            clients,
            seconds,
            json,
        } => {
            let keys = loadtest::Keys {
                operator: key,
                regulator: regulator_key,
                merchant: merchant_key,
            };
            let report = loadtest::run(&urls, &keys, wallets, clients, seconds)?;
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

/// The journal (`db`, read-only) or bundle to read.
fn open_journal(db: Option<&Path>, bundle: Option<&Path>) -> Result<SqliteStore> {
    Ok(match (db, bundle) {
        (Some(db), _) => SqliteStore::open_read_only(db)?,
        (None, Some(bundle)) => SqliteStore::open_bundle(bundle)?,
        (None, None) => unreachable!("clap requires --db or --bundle"),
    })
}

/// Reads the checkpoint file at `path`, which `key` must have signed.
fn read_checkpoint(path: &Path, key: &ed25519_dalek::VerifyingKey) -> Result<Checkpoint> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the checkpoint {}", path.display()))?;
    Checkpoint::read(&text, key).with_context(|| format!("the checkpoint {}", path.display()))
}

/// Writes `text` to a new file at `path`.
fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist)", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `n` things, in the grammatical number `n` asks for.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
