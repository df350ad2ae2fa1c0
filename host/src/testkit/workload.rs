//! The standard workload: the event mix that `prepaid bench` and `prepaid loadtest`
//! measure, signed with dev keys.
//!
//! Per wallet: open a 10-session pack awaiting its price, the rail's report that it was
//! paid, request 2 sessions, authorize them, request 1, authorize it, refund after the
//! cooling-off period.

use anyhow::{Context as _, Result};
use serde_json::Value;

use crate::envelope::Envelope;
use crate::keys::{dev_key, public_key};
use crate::registry::{Action, Actor, Industry, Listing, ListingDecision, MerchantDecision, MerchantStatus};
use crate::testkit::scenario::Step;
use crate::trust::{Regulator, Trust};
use crate::Ledger;

/// The standard mix, per wallet: `(at, signer, event)`; the payment adapter's `funded` goes
/// unsigned, under a reference [`mix`] makes the wallet's own.
const MIX: &str = r#"[
    ["2026-01-05T09:00:00Z", "consumer", {"type": "open", "consumer": "consumer", "merchant": "merchant",
        "regulator": "regulator", "awaiting_funding": true,
        "product": {"kind": "sessions", "sessions": 10, "price": "2400.00", "list_price": "300.00"},
        "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0, "max_price": "5000.00"}}],
    ["2026-01-05T09:01:00Z", null, {"type": "funded", "amount": "2400.00", "payer": "consumer"}],
    ["2026-01-06T09:00:00Z", "merchant", {"type": "request", "request": "r1", "units": 2}],
    ["2026-01-06T09:05:00Z", "consumer", {"type": "authorize", "request": "r1", "units": 2}],
    ["2026-01-20T09:00:00Z", "merchant", {"type": "request", "request": "r2", "units": 1}],
    ["2026-01-20T09:05:00Z", "consumer", {"type": "authorize", "request": "r2", "units": 1}],
    ["2026-02-10T09:00:00Z", "consumer", {"type": "refund"}]
]"#;

/// The standard mix's steps for one wallet: `(at, signer, event)`.
fn template() -> Vec<(String, Option<String>, Value)> {
    serde_json::from_str(MIX).expect("the mix is valid JSON")
}

/// How many events the standard mix sends each wallet.
pub fn events_per_wallet() -> usize {
    template().len()
}

/// The first `steps` steps of the standard mix for the wallets `prefix-N` with N in
/// `wallets`, signed with dev keys.
pub fn mix(prefix: &str, wallets: std::ops::Range<usize>, steps: usize) -> Result<Vec<Envelope>> {
    let template = template();
    let mut events = Vec::with_capacity(wallets.len() * steps.min(template.len()));
    for index in wallets {
        let wallet = format!("{prefix}-{index}");
        for (step_index, (at, by, event)) in template.iter().take(steps).enumerate() {
            let mut event = event.clone();
            if event["type"] == "funded" {
                event["reference"] = format!("RAIL-{wallet}").into();
            }
            let step = Step {
                at: at.clone(),
                wallet: wallet.clone(),
                by: Some(by.clone()),
                event,
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

/// The trust file of a platform that runs the workload: the dev regulator, and the
/// component `code_hash`.
pub fn trust(code_hash: &str) -> Trust {
    Trust {
        regulators: vec![Regulator {
            key: public_key(&dev_key("regulator")).to_string(),
            name: "regulator".into(),
            region: "dev".into(),
        }],
        components: vec![code_hash.to_owned()],
        revoked: Vec::new(),
    }
}

/// The workload's merchant (dev key `merchant`) as it registers, and its listing of the
/// mix's product and policy as it submits it: what a service that sells only listings
/// needs before the mix (see [`listed_mix`]).
pub fn registration() -> (Action, Action) {
    let template = template();
    let open = &template[0].2;
    let merchant = public_key(&dev_key("merchant")).to_string();
    (
        Action::RegisterMerchant {
            merchant: merchant.clone(),
            name: "workload gym".into(),
            industry: Industry::Fitness,
            district: "workload".into(),
            licence: "WORKLOAD".into(),
        },
        Action::SubmitListing {
            listing: String::new(),
            merchant,
            name: "10 sessions".into(),
            category: "sessions".into(),
            product: open["product"].clone(),
            policy: open["policy"].clone(),
        },
    )
}

/// Registers the workload's merchant and lists its product in `ledger`'s registry, both
/// approved by the dev regulator `regulator` until `approved_until`: the set-up of a store
/// a service that sells only listings runs the mix on. Returns the listing.
pub fn approved_listing(ledger: &Ledger, approved_until: i64) -> Result<Listing> {
    let (register, submit) = registration();
    let by = |role: &str| Actor {
        role: role.into(),
        name: "workload".into(),
    };
    match ledger.platform().record_change(by("merchant"), register) {
        Err(crate::Error::Refused(refusal)) if refusal.code == crate::RefusalCode::AlreadyRegistered => {}
        other => drop(other?),
    }
    let merchant = public_key(&dev_key("merchant")).to_string();
    if ledger
        .platform()
        .registry()?
        .merchant(&merchant)
        .map(|merchant| merchant.status)
        != Some(MerchantStatus::Approved)
    {
        ledger.platform().record_change(
            by("regulator"),
            Action::ReviewMerchant {
                merchant,
                decision: MerchantDecision::Approve,
                reason: "workload".into(),
            },
        )?;
    }
    let Action::SubmitListing { listing, .. } = ledger.platform().record_change(by("merchant"), submit)?.action else {
        unreachable!("a submission is recorded as one");
    };
    let approval = ledger
        .platform()
        .registry()?
        .listing(&listing)
        .context("the listing just submitted")?
        .approve(&dev_key("regulator"), approved_until)?;
    ledger.platform().record_change(
        by("regulator"),
        Action::ReviewListing {
            listing: listing.clone(),
            decision: ListingDecision::Approve,
            reason: "workload".into(),
            approval: Some(approval),
        },
    )?;
    Ok(ledger
        .platform()
        .registry()?
        .listing(&listing)
        .context("the listing just approved")?
        .clone())
}

/// [`mix`] (its first `steps` steps), each wallet opened as a sale of `listing` (the
/// workload's, approved).
pub fn listed_mix(
    prefix: &str,
    wallets: std::ops::Range<usize>,
    steps: usize,
    listing: &Listing,
) -> Result<Vec<Envelope>> {
    let consumer = dev_key("consumer");
    let mut events = mix(prefix, wallets, steps)?;
    for event in events
        .iter_mut()
        .filter(|event| event.event.get("type").and_then(Value::as_str) == Some("open"))
    {
        event.event = listing.open_event(&public_key(&consumer).to_string())?;
        event.sign(&consumer)?;
    }
    Ok(events)
}
