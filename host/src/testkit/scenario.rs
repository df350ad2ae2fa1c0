//! Scenario files (SCENARIOS.md): named dev actors drive wallets step by step, each step
//! signed by its actor exactly as a client signs a raw event, with optional `expect`s.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::envelope::{placeholder_approval, Envelope};
use crate::error::Error;
use crate::keys::{dev_key, public_key};
use crate::ledger::Ledger;
use crate::outcome::{EffectRecord, ErrorRecord, WalletView};

/// A scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario shows.
    pub name: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step of a scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The platform's timestamp (RFC 3339, UTC).
    pub at: String,
    /// The wallet.
    pub wallet: String,
    /// The actor who signs: absent for `tick` (the platform's clock), `null` for an event
    /// sent unsigned on purpose (to test that the contract refuses it).
    #[serde(default, deserialize_with = "present")]
    pub by: Option<Option<String>>,
    /// The event, with actors named rather than keyed.
    pub event: Value,
    /// The event id (default: the wallet and the step's index, `w1-3`).
    #[serde(default)]
    pub id: Option<String>,
    /// What the step's output must contain.
    #[serde(default)]
    pub expect: Option<Value>,
}

/// The events the platform sends unsigned: its clock and its payment adapter's report.
const UNSIGNED_EVENTS: [&str; 2] = ["tick", "funded"];

/// The event fields that name actors, by event type (as JSON pointers).
const ACTOR_FIELDS: [(&str, &str); 7] = [
    ("open", "/consumer"),
    ("open", "/merchant"),
    ("open", "/regulator"),
    ("transfer", "/to"),
    ("rekey", "/to"),
    ("merchant_closed", "/closure/merchant"),
    ("funded", "/payer"),
];

impl Scenario {
    /// Reads a scenario file.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Scenario::parse(&text).with_context(|| format!("{} is not a valid scenario file", path.display()))
    }

    /// Parses a scenario's JSON.
    pub fn parse(text: &str) -> Result<Scenario> {
        let scenario: Scenario = serde_json::from_str(text)?;
        for (index, step) in scenario.steps.iter().enumerate() {
            let Some(kind) = step.event.get("type").and_then(Value::as_str) else {
                bail!("step {index}: `event` must be an object with a string `type`");
            };
            // Only the platform's clock and its payment adapter's `funded` go unsigned; a step
            // that forgot its signer would otherwise reach the contract unsigned and come back
            // as `bad_signature`.
            if step.by.is_none() && !UNSIGNED_EVENTS.contains(&kind) {
                bail!(
                    "step {index}: `by` is missing: name the actor who signs the `{kind}` (only `tick` \
                     and `funded` go without; `\"by\": null` sends an event unsigned on purpose)"
                );
            }
        }
        Ok(scenario)
    }

    /// Every actor the scenario names, by public key (hex).
    pub fn actors(&self) -> BTreeMap<String, String> {
        self.steps
            .iter()
            .flat_map(Step::actor_names)
            .map(|name| (public_key(&dev_key(name)).to_string(), name.to_owned()))
            .collect()
    }

    /// The raw events the steps stand for: actors replaced by their dev keys, the
    /// regulator's approval added to `open`, each signed by its `by` actor.
    pub fn raw_events(&self) -> Result<Vec<Envelope>> {
        self.steps
            .iter()
            .enumerate()
            .map(|(index, step)| step.raw_event(index))
            .collect()
    }
}

/// A field that is present, even as `null`: `Some(None)`; absent is the default, `None`.
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

impl Step {
    /// The actor who signs, if any.
    pub fn signer(&self) -> Option<&str> {
        self.by.as_ref().and_then(Option::as_deref)
    }

    /// The actors this step names: its signer and the parties its event names.
    pub fn actor_names(&self) -> Vec<&str> {
        let kind = self.event["type"].as_str().unwrap_or_default();
        let named = ACTOR_FIELDS
            .iter()
            .filter(|(event_type, _)| *event_type == kind)
            .filter_map(|(_, field)| self.event.pointer(field).and_then(Value::as_str));
        self.signer().into_iter().chain(named).collect()
    }

    /// This step (number `index`) as a signed raw event.
    pub fn raw_event(&self, index: usize) -> Result<Envelope> {
        let id = self.id.clone().unwrap_or_else(|| format!("{}-{index}", self.wallet));
        let mut event = self.event.clone();
        let kind = event["type"].as_str().unwrap_or_default().to_owned();
        for (event_type, field) in ACTOR_FIELDS {
            if event_type == kind {
                if let Some(named) = event.pointer_mut(field) {
                    if let Some(name) = named.as_str() {
                        *named = public_key(&dev_key(name)).to_string().into();
                    }
                }
            }
        }
        let mut raw = Envelope {
            wallet: self.wallet.clone(),
            id,
            at: Some(self.at.clone()),
            event,
            signature: None,
        };
        // Scenario files test malformed events too: terms that do not parse keep the
        // placeholder approval, and an event that does not parse goes unsigned; the
        // contract rejects either, and that rejection is what the step checks.
        if kind == "open" {
            match self.event.get("regulator").and_then(Value::as_str) {
                Some(regulator) => {
                    let _ = raw.approve(&dev_key(regulator));
                }
                None => raw.event["approval"] = placeholder_approval().into(),
            }
        }
        if let Some(by) = self.signer() {
            let _ = raw.sign(&dev_key(by));
        }
        raw.context().with_context(|| format!("step {index}"))?;
        Ok(raw)
    }
}

/// One line of a scenario run's output.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// The step's index, from 0.
    pub step: usize,
    /// The wallet.
    pub wallet: String,
    /// The journal entry's seq (none when the event was refused before the contract).
    pub seq: Option<u64>,
    /// Whether the event was journaled before (a run repeated on the same journal): the
    /// outcome and the view are those recorded then, and nothing was applied again.
    pub replayed: bool,
    /// The event id.
    pub event_id: String,
    /// Whether the event was accepted.
    pub ok: bool,
    /// Why not.
    pub error: Option<ErrorRecord>,
    /// The money moved, recipients shown by actor name.
    pub effects: Vec<EffectRecord>,
    /// The wallet's figures after the step (none before it is open).
    pub view: Option<WalletView>,
    /// The hash of the wallet's state after the step.
    pub state_hash: Option<String>,
    /// Fuel the contract used.
    pub fuel: Option<u64>,
}

/// An `expect` that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The step's index.
    pub step: usize,
    /// Where in the output, as `expect.view.refunded`.
    pub path: String,
    /// What the `expect` says.
    pub expected: String,
    /// What the output has.
    pub got: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {}: {}: expected {}, got {}",
            self.step, self.path, self.expected, self.got
        )
    }
}

/// What a scenario run produced.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// One report per step, in order.
    pub steps: Vec<StepReport>,
    /// Every `expect` that did not hold.
    pub mismatches: Vec<Mismatch>,
    /// Steps rejected with no `expect` to say that was intended: their step index and
    /// error code. A rejection is an outcome, not a failure, so these pass; a runner
    /// should point them out, since a typo in a step looks the same.
    pub unchecked_rejections: Vec<(usize, String)>,
}

/// Runs `scenario` on `ledger`, writing one JSON line per step to `out` as it goes.
pub fn run(scenario: &Scenario, ledger: &Ledger, out: &mut dyn Write) -> Result<RunReport> {
    // A scenario's steps carry their times: they need a ledger that takes them.
    anyhow::ensure!(
        ledger.clock() == crate::Clock::Scripted,
        "scenario files run on a ledger with a scripted clock (`Ledger::with_clock(Clock::Scripted)`): their steps carry their times"
    );
    let actors = scenario.actors();
    let mut run = RunReport::default();
    for ((index, step), raw) in scenario.steps.iter().enumerate().zip(scenario.raw_events()?) {
        let report = submit_step(ledger, index, &raw, &actors)?;
        let line = serde_json::to_value(&report).expect("reports always serialize");
        writeln!(out, "{line}")?;
        if let (None, Some(error)) = (&step.expect, &report.error) {
            run.unchecked_rejections.push((index, error.code.clone()));
        }
        if let Some(expect) = &step.expect {
            let mut found = Vec::new();
            compare(expect, &line, "expect".into(), &mut found);
            run.mismatches
                .extend(found.into_iter().map(|(path, expected, got)| Mismatch {
                    step: index,
                    path,
                    expected,
                    got,
                }));
        }
        run.steps.push(report);
    }
    Ok(run)
}

/// Submits step `index`'s raw event to `ledger` and reports what happened, keys shown by
/// the actor names in `actors` (public key hex to name). An event the ledger refuses before
/// the contract is reported as rejected, with no seq; a host fault is an error.
pub fn submit_step(
    ledger: &Ledger,
    index: usize,
    raw: &Envelope,
    actors: &BTreeMap<String, String>,
) -> Result<StepReport> {
    let name_of = |key: String| actors.get(&key).cloned().unwrap_or(key);
    let mut report = StepReport {
        step: index,
        wallet: raw.wallet.clone(),
        seq: None,
        replayed: false,
        event_id: raw.id.clone(),
        ok: false,
        error: None,
        effects: Vec::new(),
        view: None,
        state_hash: None,
        fuel: None,
    };
    match ledger.submit(raw) {
        Ok(submitted) => {
            report.seq = Some(submitted.entry.seq);
            report.replayed = submitted.replayed;
            report.ok = submitted.verdict.ok;
            report.error = submitted.verdict.error;
            report.effects = submitted
                .verdict
                .effects
                .into_iter()
                .map(|effect| EffectRecord {
                    to: name_of(effect.to),
                    ..effect
                })
                .collect();
            let view = match submitted.replayed {
                true => ledger.view_at(&raw.wallet, submitted.entry.seq)?,
                false => ledger.view(&raw.wallet)?,
            };
            report.view = view.map(|view| WalletView {
                consumer: name_of(view.consumer),
                merchant: name_of(view.merchant),
                ..view
            });
            report.state_hash = Some(submitted.entry.state_hash);
            report.fuel = Some(submitted.entry.fuel);
        }
        Err(Error::Refused(refusal)) => {
            report.error = Some(ErrorRecord {
                code: refusal.code.as_str().into(),
                message: refusal.message,
            });
            // Nothing changed: the wallet's figures are what they were.
            report.view = ledger.view(&raw.wallet)?.map(|view| WalletView {
                consumer: name_of(view.consumer),
                merchant: name_of(view.merchant),
                ..view
            });
        }
        Err(error) => return Err(anyhow::Error::new(error).context(format!("step {index}"))),
    }
    Ok(report)
}

/// Collects where `actual` fails to contain `expected`: objects by their expected keys
/// (a key the output does not have is named as such, so a misspelt key is not mistaken
/// for a wrong value), arrays element by element with equal lengths, anything else by
/// equality.
fn compare(expected: &Value, actual: &Value, path: String, found: &mut Vec<(String, String, String)>) {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                match have.get(key) {
                    Some(actual) => compare(value, actual, format!("{path}.{key}"), found),
                    None => found.push((
                        format!("{path}.{key}"),
                        value.to_string(),
                        format!(
                            "no such key (the output has {})",
                            have.keys().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", ")
                        ),
                    )),
                }
            }
        }
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => {
            for (index, (value, actual)) in want.iter().zip(have).enumerate() {
                compare(value, actual, format!("{path}[{index}]"), found);
            }
        }
        _ if expected == actual => {}
        _ => found.push((path, expected.to_string(), actual.to_string())),
    }
}
