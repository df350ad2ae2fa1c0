//! `prepaid demo`: the bundled example, run into a SQLite journal and shown for a person:
//! each step's outcome, the wallets' figures, and the verification of the journal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use prepaid_host::testkit::scenario::{self, Scenario, StepReport};
use prepaid_host::{Clock, ContractEngine, Ledger, StoreConfig};

use crate::{print_report, ComponentArg};

/// The demo's scenario: a gym, a tea house, an orthodontist and a pool, and their customers.
const SCENARIO: &str = include_str!("demo.json");

/// A ledger over a new journal at `db` (an old one is replaced).
pub fn fresh_ledger(db: &Path, component: &ComponentArg, engine: ContractEngine) -> Result<Ledger> {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", db.display()));
        if file.exists() {
            std::fs::remove_file(&file).with_context(|| format!("removing the old {}", file.display()))?;
        }
    }
    component.ledger(StoreConfig::Sqlite(db.to_path_buf()), engine, Clock::Scripted)
}

/// Runs the demo on `ledger` (journaling into `db`) and prints it.
pub fn run(ledger: &Ledger, db: &Path) -> Result<ExitCode> {
    let scenario = Scenario::parse(SCENARIO).context("the bundled demo scenario")?;
    let run = scenario::run(&scenario, ledger, &mut std::io::sink())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}\njournal: {}\n", scenario.name, db.display())?;
    writeln!(
        out,
        "{:<4} {:<12} {:<15} {:<9} outcome",
        "step", "wallet", "event", "by"
    )?;
    for (step, report) in scenario.steps.iter().zip(&run.steps) {
        let kind = step.event["type"].as_str().unwrap_or("?");
        writeln!(
            out,
            "{:<4} {:<12} {kind:<15} {:<9} {}",
            report.step,
            report.wallet,
            step.signer().unwrap_or("-"),
            outcome(report)
        )?;
    }
    writeln!(
        out,
        "\n{:<12} {:<13} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "wallet", "product", "status", "paid", "frozen", "released", "refunded", "pending"
    )?;
    for wallet in ledger.wallets()? {
        if let Some(view) = ledger.view(&wallet)? {
            writeln!(
                out,
                "{:<12} {:<13} {:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                wallet, view.product, view.status, view.paid, view.frozen, view.released, view.refunded, view.pending
            )?;
        }
    }
    writeln!(out)?;
    drop(out);
    let report = ledger.verify()?;
    print_report(&report);
    for mismatch in &run.mismatches {
        eprintln!("expect failed: {mismatch}");
    }
    Ok(if report.is_clean() && run.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A step's outcome in a few words: the money it moved and why, or why it was rejected.
fn outcome(report: &StepReport) -> String {
    match (&report.error, report.seq) {
        // Refused before it was shown to come from a party of the wallet: not recorded.
        (Some(error), None) => return format!("refused, not recorded: {}", error.code),
        (Some(error), Some(_)) => return format!("rejected: {}", error.code),
        (None, _) => {}
    }
    let effects: Vec<String> = report
        .effects
        .iter()
        .map(|effect| format!("{} {} to {} ({})", effect.kind, effect.amount, effect.to, effect.reason))
        .collect();
    if effects.is_empty() {
        "ok".into()
    } else {
        format!("ok: {}", effects.join(", "))
    }
}
