//! Golden traces: a scenario run reduced to what must not change by accident (per step:
//! outcome, effects, state hash, fuel), one JSON line per step, and a readable diff when a
//! run no longer matches its snapshot.

use serde::Serialize;

use crate::outcome::EffectRecord;
use crate::testkit::scenario::RunReport;

/// One step of a golden trace.
#[derive(Clone, Debug, Serialize)]
struct TraceLine<'a> {
    step: usize,
    wallet: &'a str,
    ok: bool,
    error: Option<&'a str>,
    effects: &'a [EffectRecord],
    state_hash: Option<&'a str>,
    fuel: Option<u64>,
}

/// The golden trace of `run`: a JSON line per step.
pub fn trace(run: &RunReport) -> String {
    run.steps
        .iter()
        .map(|step| {
            let line = TraceLine {
                step: step.step,
                wallet: &step.wallet,
                ok: step.ok,
                error: step.error.as_ref().map(|error| error.code.as_str()),
                effects: &step.effects,
                state_hash: step.state_hash.as_deref(),
                fuel: step.fuel,
            };
            serde_json::to_string(&line).expect("trace lines always serialize") + "\n"
        })
        .collect()
}

/// A unified diff from the `recorded` trace to the `current` one, or none when equal.
pub fn diff(recorded: &str, current: &str) -> Option<String> {
    (recorded != current).then(|| {
        similar::TextDiff::from_lines(recorded, current)
            .unified_diff()
            .header("snapshot", "this run")
            .to_string()
    })
}
