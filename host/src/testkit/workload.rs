//! The standard workload: the event mix that `prepaid bench` and `prepaid loadtest`
//! measure, signed with dev keys.
//!
//! Per wallet: open a 10-session pack, request 2 sessions, authorize them, request 1,
//! authorize it, refund after the cooling-off period.

use anyhow::Result;

use crate::envelope::Envelope;
use crate::testkit::scenario::Step;

/// The standard mix, per wallet: `(at, signer, event)`.
const MIX: &str = r#"[
    ["2026-01-05T09:00:00Z", "consumer", {"type": "open", "consumer": "consumer", "merchant": "merchant",
        "regulator": "regulator",
        "product": {"kind": "sessions", "sessions": 10, "price": "2400.00", "list_price": "300.00"},
        "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0, "max_price": "5000.00"}}],
    ["2026-01-06T09:00:00Z", "merchant", {"type": "request", "request": "r1", "units": 2}],
    ["2026-01-06T09:05:00Z", "consumer", {"type": "authorize", "request": "r1", "units": 2}],
    ["2026-01-20T09:00:00Z", "merchant", {"type": "request", "request": "r2", "units": 1}],
    ["2026-01-20T09:05:00Z", "consumer", {"type": "authorize", "request": "r2", "units": 1}],
    ["2026-02-10T09:00:00Z", "consumer", {"type": "refund"}]
]"#;

/// The first `steps` steps of the standard mix for the wallets `prefix-N` with N in
/// `wallets`, signed with dev keys.
pub fn mix(prefix: &str, wallets: std::ops::Range<usize>, steps: usize) -> Result<Vec<Envelope>> {
    let template: Vec<(String, String, serde_json::Value)> = serde_json::from_str(MIX).expect("the mix is valid JSON");
    let mut events = Vec::with_capacity(wallets.len() * steps.min(template.len()));
    for index in wallets {
        let wallet = format!("{prefix}-{index}");
        for (step_index, (at, by, event)) in template.iter().take(steps).enumerate() {
            let step = Step {
                at: at.clone(),
                wallet: wallet.clone(),
                by: Some(Some(by.clone())),
                event: event.clone(),
                id: None,
                expect: None,
            };
            events.push(step.raw_event(step_index)?);
        }
    }
    Ok(events)
}

/// The standard mix for `wallets` wallets, signed with dev keys.
pub fn standard_mix(wallets: usize) -> Result<Vec<Envelope>> {
    mix("bench", 0..wallets, usize::MAX)
}
