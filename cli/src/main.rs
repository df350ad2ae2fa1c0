//! `prepaid`: run scenarios, verify journals, show the demo, serve the API, measure; the
//! command-line face of the `prepaid_host` library. [`args`] reads the command line; each
//! command is done by a module of its own (the smallest by a function of [`platform`] or
//! [`supervision`]), and this one dispatches and keeps what several share.

mod args;
mod bench;
mod checkpoint;
mod demo;
mod journal;
mod loadtest;
mod migrate;
mod platform;
mod receipt;
mod scenario;
mod serve;
mod supervision;
mod verify;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;

use prepaid_host::outcome::sha256_hex;
use prepaid_host::signed::Checkpoint;
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::{Clock, Ledger, StoreConfig};

pub(crate) use args::ComponentArg;
use args::{AdmissionArgs, Cli, Command, ContractCommand, MigrateCommand, OutboxCommand};

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
        Command::Scenario { command } => scenario::run(command),
        Command::Verify(args) => verify::run(args),
        Command::Apply {
            db,
            file,
            batch,
            admission,
            component,
            cache,
        } => {
            let trust = admission.trust()?;
            let ledger = component.ledger(StoreConfig::Sqlite(db), cache.engine()?, Clock::System)?;
            let ledger = AdmissionArgs::admit(ledger, trust)?;
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
        Command::Journal { command } => journal::run(command),
        Command::Checkpoint(args) => checkpoint::run(args),
        Command::Receipt { command } => receipt::run(command),
        Command::Demo { db, component, cache } => {
            let ledger = demo::fresh_ledger(&db, &component, cache.engine()?)?;
            demo::run(&ledger, &db)
        }
        Command::Bench(args) => bench::command(args),
        Command::Serve(args) => serve::run(args),
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
        Command::Migrate {
            command: MigrateCommand::Plan { store, to, json, cache },
        } => migrate::plan(store.config(), &to, json, cache.engine()?),
        Command::Migrate {
            command:
                MigrateCommand::Run {
                    store,
                    plan,
                    hash,
                    to,
                    key,
                    admission,
                    cache,
                },
        } => {
            let trust = admission.trust()?;
            migrate::run(store.config(), (&plan, &hash), &to, &key, trust, cache.engine()?)
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
