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

/// What differs from the `recorded` trace to the `current` one, or none when equal: a
/// one-line summary when only fuel differs (any change to the component's bytes moves
/// every step's fuel, and a screenful of such lines would hide the change that matters),
/// a unified diff otherwise.
pub fn diff(recorded: &str, current: &str) -> Option<String> {
    if recorded == current {
        return None;
    }
    if let Some(summary) = fuel_only(recorded, current) {
        return Some(summary);
    }
    Some(
        similar::TextDiff::from_lines(recorded, current)
            .unified_diff()
            .header("snapshot", "this run")
            .to_string(),
    )
}

/// "only fuel differs …" when the two traces have the same steps and differ in fuel alone.
fn fuel_only(recorded: &str, current: &str) -> Option<String> {
    let parse = |trace: &str| -> Option<Vec<serde_json::Value>> {
        trace.lines().map(|line| serde_json::from_str(line).ok()).collect()
    };
    let (recorded, current) = (parse(recorded)?, parse(current)?);
    if recorded.len() != current.len() {
        return None;
    }
    let mut moved = Vec::new();
    for (index, (old, new)) in recorded.iter().zip(&current).enumerate() {
        let without_fuel = |line: &serde_json::Value| {
            let mut line = line.clone();
            line.as_object_mut()?.remove("fuel");
            Some(line)
        };
        if without_fuel(old)? != without_fuel(new)? {
            return None;
        }
        if old["fuel"] != new["fuel"] {
            moved.push(format!("step {index}: {} -> {}", old["fuel"], new["fuel"]));
        }
    }
    Some(format!(
        "only fuel differs, on {} of {} steps ({}{}); outcomes, effects and states are unchanged",
        moved.len(),
        recorded.len(),
        moved.first().map_or("", String::as_str),
        if moved.len() > 1 { ", …" } else { "" }
    ))
}
