//! `prepaid`: run scenarios, verify journals, show the demo, hash components.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use prepaid_host::bench;
use prepaid_host::ledger::Ledger;
use prepaid_host::outcome::sha256_hex;
use prepaid_host::scenario::{self, Scenario};
use prepaid_host::verify::{verify, Report};

/// Where `cargo xtask contract` writes the component.
const BUILT_COMPONENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/contract/prepaid_contract.wasm");

/// The demo's scenario: a clinic, a gym and a tea shop's customers.
const DEMO_SCENARIO: &str = include_str!("../demo/demo.json");

/// Supervised prepaid consumer funds on a WebAssembly contract.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
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
    Verify {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// Prints the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measures the standard event mix: native rules, the component in memory, the
    /// component with the SQLite journal, and verify; prints events/s and ratios.
    Bench {
        /// How many wallets (six events each).
        #[arg(long, default_value_t = 2000)]
        wallets: usize,
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
        #[command(flatten)]
        component: ComponentArg,
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
struct ComponentArg {
    /// The contract component that new wallets are opened with.
    #[arg(long = "component", env = "PREPAID_COMPONENT", default_value = BUILT_COMPONENT)]
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

    fn ledger(&self, db: &Path) -> Result<Ledger> {
        let mut ledger = Ledger::open(db)?;
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

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scenario {
            command: ScenarioCommand::Run { file, db, component },
        } => {
            let scenario = Scenario::load(&file)?;
            let temp = tempfile::tempdir().context("creating a temporary journal")?;
            let db = db.unwrap_or_else(|| temp.path().join("journal.db"));
            let mut ledger = component.ledger(&db)?;
            let mismatches = scenario::run(&scenario, &mut ledger, &mut std::io::stdout().lock())?;
            for mismatch in &mismatches {
                eprintln!("expect failed: {mismatch}");
            }
            Ok(if mismatches.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Verify { db, json } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            let ledger = Ledger::open(&db)?;
            let report = verify(ledger.journal())?;
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
        Command::Demo { db, component } => demo(&db, &component),
        Command::Bench {
            wallets,
            json,
            component,
        } => {
            let bytes = component.bytes()?;
            let dir = tempfile::tempdir().context("creating a temporary journal")?;
            let measurements = bench::run(&bytes, wallets, dir.path())?;
            if json {
                println!("{}", serde_json::to_string(&measurements)?);
            } else {
                print_bench(&measurements);
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

fn print_bench(measurements: &[bench::Measurement]) {
    let native = measurements[0].events_per_second;
    println!(
        "{:<52} {:>8} {:>12} {:>10} {:>16}",
        "path", "events", "events/s", "µs/event", "cost vs native"
    );
    for m in measurements {
        println!(
            "{:<52} {:>8} {:>12.0} {:>10.1} {:>15.1}×",
            m.name,
            m.events,
            m.events_per_second,
            m.micros_per_event,
            native / m.events_per_second
        );
    }
}

fn print_report(report: &Report) {
    for divergence in &report.divergences {
        println!("DIVERGENCE {divergence}");
    }
    let verdict = if report.is_clean() { "clean" } else { "DIVERGED" };
    println!(
        "verify: {} wallets, {} entries replayed with their pinned code: {verdict}",
        report.wallets, report.entries
    );
}

fn demo(db: &Path, component: &ComponentArg) -> Result<ExitCode> {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", db.display()));
        if file.exists() {
            std::fs::remove_file(&file).with_context(|| format!("removing the old {}", file.display()))?;
        }
    }
    let scenario = Scenario::parse(DEMO_SCENARIO).context("the bundled demo scenario")?;
    let mut ledger = component.ledger(db)?;
    let mut lines = Vec::new();
    let mismatches = scenario::run(&scenario, &mut ledger, &mut lines)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}\njournal: {}\n", scenario.name, db.display())?;
    writeln!(
        out,
        "{:<4} {:<12} {:<10} {:<9} outcome",
        "step", "wallet", "event", "by"
    )?;
    for (step, line) in scenario.steps.iter().zip(String::from_utf8(lines)?.lines()) {
        let report: serde_json::Value = serde_json::from_str(line)?;
        let outcome = if report["ok"] == true {
            let effects: Vec<String> = report["effects"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|effect| {
                    format!(
                        "{} {} to {}",
                        effect["kind"].as_str().unwrap_or("?"),
                        effect["amount"].as_str().unwrap_or("?"),
                        effect["to"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            if effects.is_empty() {
                "ok".to_string()
            } else {
                format!("ok: {}", effects.join(", "))
            }
        } else {
            format!("rejected: {}", report["error"]["code"].as_str().unwrap_or("?"))
        };
        writeln!(
            out,
            "{:<4} {:<12} {:<10} {:<9} {outcome}",
            report["step"].as_u64().unwrap_or_default(),
            step.wallet,
            step.event["type"].as_str().unwrap_or("?"),
            step.by.as_deref().unwrap_or("-"),
        )?;
    }
    writeln!(
        out,
        "\n{:<12} {:<13} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "wallet", "product", "status", "paid", "frozen", "released", "refunded", "pending"
    )?;
    for wallet in ledger.journal().wallets()? {
        if let Some(view) = ledger.view(&wallet)? {
            writeln!(
                out,
                "{:<12} {:<13} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                wallet, view.product, view.status, view.paid, view.frozen, view.released, view.refunded, view.pending
            )?;
        }
    }
    writeln!(out)?;
    let report = verify(ledger.journal())?;
    drop(out);
    print_report(&report);
    for mismatch in &mismatches {
        eprintln!("expect failed: {mismatch}");
    }
    Ok(if report.is_clean() && mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
