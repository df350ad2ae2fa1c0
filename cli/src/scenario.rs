//! `prepaid scenario run`: a scenario file's steps through the component, a JSON line per
//! step, its `expect`s checked and, with `--snapshot`, its golden trace.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use prepaid_host::testkit::scenario::{self, Scenario};
use prepaid_host::testkit::snapshot;
use prepaid_host::{Clock, Funding, StoreConfig};

use crate::args::ScenarioCommand;

/// Runs `command`.
pub(crate) fn run(command: ScenarioCommand) -> Result<ExitCode> {
    let ScenarioCommand::Run {
        file,
        db,
        snapshot,
        update_snapshot,
        component,
        cache,
    } = command;
    let scenario = Scenario::load(&file)?;
    let temp = tempfile::tempdir().context("creating a temporary journal")?;
    let db = db.unwrap_or_else(|| temp.path().join("journal.db"));
    // A scenario file is a history written in advance: its opens say whether they are paid.
    let ledger = component
        .ledger(StoreConfig::Sqlite(db), cache.engine()?, Clock::Scripted)?
        .with_funding(Funding::Declared);
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
