//! `prepaid`: run scenarios, verify journals, show the demo, serve the API, measure; the
//! command-line face of the `prepaid_host` library.

mod demo;
mod platform;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
mod bench;
mod loadtest;

use prepaid_host::ledger::Contracts;
use prepaid_host::outcome::sha256_hex;
use prepaid_host::service::auth::ApiKeys;
use prepaid_host::service::Service;
use prepaid_host::store::postgres::PostgresConfig;
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::testkit::scenario::{self, Scenario};
use prepaid_host::testkit::snapshot;
use prepaid_host::verify::{verify_with_progress, Report};
use prepaid_host::{ContractEngine, Ledger, StoreConfig};

/// Supervised prepaid consumer funds on a WebAssembly contract.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Keeps compiled contract components in this folder, so later runs start without
    /// compiling.
    #[arg(long, global = true, env = "PREPAID_CACHE")]
    cache: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the bundled example into a SQLite journal and shows the wallets and the
    /// verification of their history.
    Demo {
        /// The journal to write (replaced if present).
        #[arg(long, default_value = "prepaid-demo.db")]
        db: PathBuf,
        #[command(flatten)]
        component: ComponentArg,
    },
    /// Scenario files.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    /// Replays every wallet of a journal with its pinned code and compares everything.
    /// Exits non-zero on any divergence.
    #[command(group = clap::ArgGroup::new("source").required(true))]
    Verify {
        /// A journal.
        #[arg(long, group = "source")]
        db: Option<PathBuf>,
        /// A bundle written by `prepaid journal export`.
        #[arg(long, group = "source")]
        bundle: Option<PathBuf>,
        /// Prints the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Applies raw signed events (JSON lines, from FILE or stdin) and prints a JSON line
    /// per event. Re-submitting an event returns its recorded outcome.
    Apply {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// The events (default: stdin).
        file: Option<PathBuf>,
        /// Commits this many events at a time (group commit); each is acknowledged once
        /// its batch is on disk.
        #[arg(long, default_value_t = 1)]
        batch: usize,
        #[command(flatten)]
        component: ComponentArg,
    },
    /// Creates a key pair: the secret goes to a new file, the public key is printed.
    Keygen {
        /// The key file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Signs raw events read from stdin (JSON lines) and prints them signed.
    Sign {
        /// The signer's key file.
        #[arg(long)]
        key: PathBuf,
        /// Adds the regulator's approval of the terms to each `open`, instead of signing.
        #[arg(long)]
        approve: bool,
    },
    /// Shows a wallet: its figures, pinned code and journal.
    Wallet {
        /// The wallet.
        id: String,
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
    },
    /// The effects waiting for the payment rail.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Journals.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Measures the standard event mix: native rules, the component in memory, the
    /// component with the SQLite journal, and verify; prints events/s and ratios.
    Bench {
        /// How many wallets (six events each).
        #[arg(long, default_value_t = 2000)]
        wallets: usize,
        /// Runs of each path; the fastest counts.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Also measures group-commit throughput and memory on a journal of 1,000 wallets
        /// and on one of this many (1000000 takes minutes).
        #[arg(long)]
        scale: Option<usize>,
        /// Prints the measurements as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        component: ComponentArg,
    },
    /// Contract components.
    Contract {
        #[command(subcommand)]
        command: ContractCommand,
    },
    /// Serves the HTTP API for platforms (see /openapi.json), on the SQLite journal by
    /// default or on PostgreSQL, which several `prepaid serve` processes can share.
    Serve {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The SQLite journal (the default store).
        #[arg(long, default_value = "prepaid.db", conflicts_with = "postgres")]
        db: PathBuf,
        /// A PostgreSQL database instead, as postgres://user@host:port/db.
        #[arg(long, env = "PREPAID_POSTGRES")]
        postgres: Option<String>,
        /// Connects to PostgreSQL over TLS only, trusting the certificate authorities in
        /// this PEM file (for example /etc/ssl/certs/ca-certificates.crt). Without it the
        /// connection is plain: keep the database on a trusted network.
        #[arg(long, env = "PREPAID_POSTGRES_CA", requires = "postgres")]
        postgres_ca: Option<PathBuf>,
        /// The API keys file: a JSON list of {"key", "role", "name", "merchant"?}.
        #[arg(long, env = "PREPAID_KEYS")]
        keys: PathBuf,
        #[command(flatten)]
        component: ComponentArg,
    },
    /// Drives running `prepaid serve` processes with the standard event mix from many
    /// clients and prints events/s and latency percentiles.
    Loadtest {
        /// A service to send to; give it more than once to alternate between services,
        /// event by event, on the same wallets.
        #[arg(long = "url", required = true)]
        urls: Vec<String>,
        /// An operator API key.
        #[arg(long, env = "PREPAID_API_KEY")]
        key: String,
        /// How many wallets (six events each).
        #[arg(long, default_value_t = 500)]
        wallets: usize,
        /// Clients sending at once.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Runs for this many seconds on new wallets (instead of `--wallets`), reporting
        /// throughput and latency second by second.
        #[arg(long)]
        seconds: Option<u64>,
        /// Prints the measurement as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Runs a scenario file, printing a JSON line per step. Exits non-zero when an
    /// `expect` fails.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// A SQLite journal to write (default: a temporary one).
        #[arg(long)]
        db: Option<PathBuf>,
        /// A golden trace (per step: outcome, effects, state hash, fuel) the run must
        /// match; exits non-zero with a diff when it does not.
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// Writes the run's trace to `--snapshot` instead of checking it, accepting a
        /// change.
        #[arg(long, requires = "snapshot")]
        update_snapshot: bool,
        #[command(flatten)]
        component: ComponentArg,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Lists effects not yet acknowledged, as JSON lines, oldest first.
    List {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Acknowledges effects the payment rail has carried out.
    Ack {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// Effect ids, as `list` prints them.
        #[arg(required = true)]
        effect_ids: Vec<String>,
    },
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Writes a self-contained bundle for an auditor: the journal entries of one wallet
    /// (or all) and every component they pin, by code hash.
    Export {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// Only this wallet.
        #[arg(long)]
        wallet: Option<String>,
        /// The bundle to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ContractCommand {
    /// Prints a component's code hash (SHA-256, hex).
    Hash {
        /// The component file.
        file: PathBuf,
    },
}

#[derive(clap::Args)]
pub(crate) struct ComponentArg {
    /// The contract component that new wallets are opened with.
    #[arg(long = "component", env = "PREPAID_COMPONENT", default_value_os_t = prepaid_host::component_path())]
    path: PathBuf,
}

impl ComponentArg {
    fn bytes(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.path).with_context(|| {
            format!(
                "reading the contract component {} (build it with `cargo xtask contract`)",
                self.path.display()
            )
        })
    }

    /// A ledger over `store` with this component installed.
    pub(crate) fn ledger(&self, store: StoreConfig, engine: ContractEngine) -> Result<Ledger> {
        let ledger = Ledger::open(store, engine)?;
        ledger.install(&self.bytes()?)?;
        Ok(ledger)
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The contract engine, with the artifact cache when one is asked for.
fn engine(cache: Option<&Path>) -> Result<ContractEngine> {
    let engine = ContractEngine::new()?;
    match cache {
        Some(dir) => engine.with_cache(dir),
        None => Ok(engine),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let cache = cli.cache.as_deref();
    match cli.command {
        Command::Scenario {
            command:
                ScenarioCommand::Run {
                    file,
                    db,
                    snapshot,
                    update_snapshot,
                    component,
                },
        } => {
            let scenario = Scenario::load(&file)?;
            let temp = tempfile::tempdir().context("creating a temporary journal")?;
            let db = db.unwrap_or_else(|| temp.path().join("journal.db"));
            let ledger = component.ledger(StoreConfig::Sqlite(db), engine(cache)?)?;
            let run = scenario::run(&scenario, &ledger, &mut std::io::stdout().lock())?;
            for mismatch in &run.mismatches {
                eprintln!("expect failed: {mismatch}");
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
        Command::Verify { db, bundle, json } => {
            let path = db.or(bundle).expect("clap requires --db or --bundle");
            let journal = SqliteStore::open_read_only(&path)?;
            let progress = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("verifying {bar:40} {pos}/{len} wallets, {eta} left")
                    .expect("a valid template"),
            );
            let report = verify_with_progress(&journal, &Contracts::new(engine(cache)?), |done, total| {
                progress.set_length(total as u64);
                progress.set_position(done as u64);
            })?;
            progress.finish_and_clear();
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print_report(&report);
            }
            Ok(if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Apply {
            db,
            file,
            batch,
            component,
        } => {
            let ledger = component.ledger(StoreConfig::Sqlite(db), engine(cache)?)?;
            match file {
                Some(file) => {
                    let file = std::fs::File::open(&file).with_context(|| format!("reading {}", file.display()))?;
                    platform::apply(&ledger, &mut std::io::BufReader::new(file), batch)
                }
                None => platform::apply(&ledger, &mut std::io::stdin().lock(), batch),
            }
        }
        Command::Keygen { out } => platform::keygen(&out),
        Command::Sign { key, approve } => platform::sign(&key, approve),
        Command::Wallet { id, db, json } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            platform::wallet(&Ledger::open(StoreConfig::Sqlite(db), engine(cache)?)?, &id, json)
        }
        Command::Outbox {
            command: OutboxCommand::List { db, limit },
        } => platform::outbox_list(&db, limit),
        Command::Outbox {
            command: OutboxCommand::Ack { db, effect_ids },
        } => platform::outbox_ack(&db, &effect_ids),
        Command::Journal {
            command: JournalCommand::Export { db, wallet, out },
        } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            let (wallets, entries) = SqliteStore::open(&db)?.export(&out, wallet.as_deref())?;
            println!(
                "wrote {}: {wallets} wallets, {entries} entries and the components they pin",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { db, component } => {
            let ledger = demo::fresh_ledger(&db, &component, engine(cache)?)?;
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
            component,
        } => {
            let keys = ApiKeys::load(&keys)?;
            let store = match postgres {
                Some(url) => StoreConfig::Postgres(match postgres_ca {
                    Some(ca) => PostgresConfig::new(url).with_tls_ca(ca),
                    None => PostgresConfig::new(url),
                }),
                None => StoreConfig::Sqlite(db),
            };
            let ledger = component.ledger(store, engine(cache)?)?;
            platform::serve(listen, Service::new(ledger, keys))
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
        "verify: {} wallets, {} entries replayed with their pinned code: {verdict}",
        report.wallets, report.entries
    );
}
