//! Claims: what an ending gives the consumer beyond what is frozen is owed by the merchant,
//! and the merchant's next releases, on any wallet, pay it before the merchant is paid.

use prepaid_host::alerts::{AlertKind, AlertRules};
use prepaid_host::claims::{payouts, Withheld};
use prepaid_host::envelope::timestamp;
use prepaid_host::keys::dev_key;
use prepaid_host::reconcile::{Difference, DifferenceKind, StatementLine};
use prepaid_host::registry::{Action, Actor};
use prepaid_host::stats::{GroupBy, Query};
use prepaid_host::store::{Ack, OutboxEffect};
use prepaid_host::testkit::TestKit;
use serde_json::{json, Value};

fn sessions() -> Value {
    json!({"kind": "sessions", "sessions": 10, "price": "2400.00", "list_price": "300.00"})
}

fn nantong() -> Value {
    json!({"cooling_off_days": 7, "deemed_confirm_days": 0, "supervised_share": 20})
}

fn hex(name: &str) -> String {
    hex::encode(dev_key(name).verifying_key().to_bytes())
}

/// Ola's wallet at the school, 20% supervised: two sessions used, the 80% gone at the
/// day-7 tick, then her refund on day 10: 384.00 back and 1,416.00 owed.
fn owed_to_ola(kit: &mut TestKit) {
    kit.open("w1", "ola", "school", sessions(), nantong()).assert_ok();
    kit.advance_days(1);
    kit.send("w1", "school", json!({"type": "request", "request": "r1", "units": 2}))
        .assert_ok();
    kit.send("w1", "ola", json!({"type": "authorize", "request": "r1", "units": 2}))
        .assert_effects(&[("release", "school", "480.00")]);
    kit.advance_days(7);
    kit.tick("w1").assert_effects(&[("release", "school", "1536.00")]);
    kit.advance_days(2);
    kit.send("w1", "ola", json!({"type": "refund"}))
        .assert_effects(&[("refund", "ola", "384.00"), ("claim", "ola", "1416.00")]);
    assert_eq!(kit.view("w1").owed, "1416.00");
}

/// Another consumer's wallet at `merchant`, fully supervised, and `units` sessions of it
/// authorized: a release of `units` × 240.00 to the merchant.
fn release(kit: &mut TestKit, wallet: &str, merchant: &str, units: u64) {
    kit.open(
        wallet,
        "bob",
        merchant,
        sessions(),
        json!({"cooling_off_days": 7, "deemed_confirm_days": 0}),
    )
    .assert_ok();
    kit.send(
        wallet,
        merchant,
        json!({"type": "request", "request": "r1", "units": units}),
    )
    .assert_ok();
    kit.send(
        wallet,
        "bob",
        json!({"type": "authorize", "request": "r1", "units": units}),
    )
    .assert_ok();
}

#[test]
fn the_merchants_next_releases_pay_what_it_owes_before_it_is_paid() {
    let mut kit = TestKit::new();
    owed_to_ola(&mut kit);
    // Another merchant's releases never pay the school's claim.
    release(&mut kit, "gym1", "gym", 5);
    assert_eq!(kit.ledger().claims_of("w1").unwrap()[0].remaining, "1416.00");

    // The school's next release, of another consumer's wallet, goes to Ola whole; the one
    // after pays the rest of the claim, and the school what is left.
    release(&mut kit, "w2", "school", 5);
    release(&mut kit, "w3", "school", 1);
    let ledger = kit.ledger();
    let claims = ledger.claims_of("w1").unwrap();
    assert_eq!(claims.len(), 1);
    let claim = &claims[0];
    assert_eq!(
        (claim.amount.as_str(), claim.paid.as_str(), claim.remaining.as_str()),
        ("1416.00", "1416.00", "0.00")
    );
    assert_eq!(
        (claim.merchant.as_str(), claim.consumer.as_str()),
        (hex("school").as_str(), hex("ola").as_str())
    );
    assert_eq!(claim.reason, "consumer_refund");
    assert!(claim.settled_at.is_some());
    let paid: Vec<(&str, &str)> = claim
        .payments
        .iter()
        .map(|payment| (payment.release.as_str(), payment.amount.as_str()))
        .collect();
    assert_eq!(paid, [("w2:3:0", "1200.00"), ("w3:3:0", "216.00")]);
    assert!(ledger.open_claims().unwrap().is_empty());

    // The outbox tells the adapter to pay Ola first and the school the rest; the claim
    // itself was never an effect to pay out of Ola's wallet.
    let effects = ledger.pending_effects(100).unwrap();
    assert!(effects.iter().all(|effect| effect.kind != "claim"));
    let withheld = ledger.withheld(&effects).unwrap();
    let shown: Vec<Value> = payouts(&effects, &withheld)
        .iter()
        .map(|payout| serde_json::to_value(payout).unwrap())
        .filter(|payout| payout.get("claim_payments").is_some())
        .collect();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert_eq!(shown[0]["effect_id"], "w2:3:0");
    assert_eq!(shown[0]["recipient_amount"], "0.00");
    assert_eq!(
        shown[0]["claim_payments"],
        json!([{"claim": "w1:5:1", "to": hex("ola"), "amount": "1200.00"}])
    );
    assert_eq!(shown[1]["recipient_amount"], "24.00");

    // The regulator sees the 80% apart from releases consumers authorized, what was owed
    // and collected, and nothing outstanding.
    let lines = ledger
        .platform()
        .stats(&Query {
            group_by: GroupBy::Merchant,
            merchant: Some(hex("school")),
            ..Query::default()
        })
        .unwrap();
    let school = &lines[0];
    assert_eq!(school.unsupervised, "1536.00");
    assert_eq!(school.owed, "1416.00");
    assert_eq!(school.collected, "1416.00");
    assert_eq!(school.claims_outstanding, "0.00");
    assert_eq!(school.exposure, "0.00");
    kit.assert_verifies();

    // The adapter pays the outbox as it says and acknowledges each effect: the rail's
    // statement reconciles, claim payments and all.
    let statement = pay(&effects, &withheld, |_, _| {});
    let acks: Vec<Ack> = effects
        .iter()
        .map(|effect| Ack::paid(effect.effect_id.clone(), rail_reference(&effect.effect_id)))
        .collect();
    ledger.ack_effects(&acks, None).unwrap();
    let found = ledger.reconcile(&statement).unwrap();
    // The kit's opens say they are paid (a history written in advance): reconcile names
    // each such wallet's money as never come in by the rail, and nothing else.
    let (never_in, other): (Vec<_>, Vec<_>) = found.differences.iter().partition(|difference| unfunded(difference));
    assert!(other.is_empty(), "{other:#?}");
    assert!(
        never_in.iter().any(|difference| difference.subject == "w1"
            && difference.detail == "the journal counts 2400.00 paid; the rail's fundings it journals come to 0.00"),
        "{never_in:#?}"
    );
    assert_eq!(found.claim_payments, 2);

    // An insider pays the school the whole of w2's release and Ola nothing: reconcile
    // names both.
    let statement = pay(&effects, &withheld, |line, owed| {
        if line["effect_id"] == "w2:3:0" {
            line["amount"] = owed.into();
        }
    });
    let statement: Vec<StatementLine> = statement
        .into_iter()
        .filter(|line| !matches!(line, StatementLine::ClaimPayment { effect_id, .. } if effect_id == "w2:3:0"))
        .collect();
    let found = ledger.reconcile(&statement).unwrap();
    let named: Vec<(DifferenceKind, &str)> = found
        .differences
        .iter()
        .filter(|difference| !unfunded(difference))
        .map(|difference| (difference.kind, difference.subject.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            (DifferenceKind::AmountDiffers, "w2:3:0"),
            (DifferenceKind::AcknowledgedNotPaid, "w2:3:0")
        ],
        "{:#?}",
        found.differences
    );
}

fn rail_reference(effect_id: &str) -> String {
    format!("RAIL-{}", effect_id.replace(':', "-"))
}

/// The rail's statement of paying `effects` as the outbox says, each line as JSON first
/// given to `edit` with the effect's whole amount.
/// Whether `difference` names a wallet's money as never come in by the rail: as it does
/// for every wallet the test kit opens saying it is paid.
fn unfunded(difference: &Difference) -> bool {
    matches!(
        difference.kind,
        DifferenceKind::PaidNotFunded | DifferenceKind::OutWithoutIn
    )
}

fn pay(effects: &[OutboxEffect], withheld: &[Withheld], mut edit: impl FnMut(&mut Value, &str)) -> Vec<StatementLine> {
    let mut lines = Vec::new();
    for payout in payouts(effects, withheld) {
        let effect = payout.effect;
        let reference = rail_reference(&effect.effect_id);
        for leg in &payout.claim_payments {
            lines.push(
                json!({"kind": "claim_payment", "effect_id": effect.effect_id, "claim": leg.claim,
                              "to": leg.to, "amount": leg.amount, "reference": reference}),
            );
        }
        let amount = payout.recipient_amount.clone().unwrap_or_else(|| effect.amount.clone());
        let mut line = json!({"kind": effect.kind, "effect_id": effect.effect_id, "to": effect.to,
                              "amount": amount, "reference": reference});
        edit(&mut line, &effect.amount);
        if line["amount"] != "0.00" {
            lines.push(line);
        }
    }
    lines
        .into_iter()
        .map(|line| serde_json::from_value(line).unwrap())
        .collect()
}

#[test]
fn a_merchants_exposure_is_the_unearned_share_and_then_the_claim_it_owes() {
    let mut kit = TestKit::new();
    kit.open("w1", "ola", "school", sessions(), nantong()).assert_ok();
    kit.advance_days(8);
    kit.tick("w1").assert_effects(&[("release", "school", "1920.00")]);
    let exposure = |kit: &TestKit| {
        let lines = kit
            .ledger()
            .platform()
            .stats(&Query {
                group_by: GroupBy::Merchant,
                ..Query::default()
            })
            .unwrap();
        (
            lines[0].exposure.clone(),
            lines[0].claims_outstanding.clone(),
            lines[0].frozen.clone(),
        )
    };
    // The school holds 1,920.00 of services not given: exposure, though nothing is owed yet.
    assert_eq!(exposure(&kit), ("1920.00".into(), "0.00".into(), "480.00".into()));
    // Closed by the regulator: 480.00 back, 1,920.00 owed, the exposure now the claim.
    kit.send("w1", "regulator", json!({"type": "merchant_closed"}))
        .assert_effects(&[("refund", "ola", "480.00"), ("claim", "ola", "1920.00")]);
    assert_eq!(exposure(&kit), ("1920.00".into(), "1920.00".into(), "0.00".into()));
    let open = kit.ledger().open_claims().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].wallet.as_str(), open[0].reason.as_str()),
        ("w1", "merchant_closed")
    );
    kit.assert_verifies();

    // The regulator's alerts: on what a merchant owes, and on how long a claim has waited.
    let platform = kit.ledger().platform();
    let rules = AlertRules {
        claims_outstanding_over: Some("1000.00".into()),
        claim_older_than_days: Some(10),
        ..AlertRules::default()
    };
    let closed_at = timestamp("2026-01-09T00:00:00Z").unwrap();
    let regulator = Actor {
        role: "regulator".into(),
        name: "city".into(),
    };
    platform
        .record_at(regulator, Action::ConfigureAlerts { rules }, closed_at)
        .unwrap();
    let raised = |at: &str| -> Vec<(AlertKind, String)> {
        let alerts = platform.alerts_at(timestamp(at).unwrap()).unwrap();
        alerts.into_iter().map(|alert| (alert.kind, alert.value)).collect()
    };
    assert_eq!(
        raised("2026-01-10T00:00:00Z"),
        [(AlertKind::ClaimsOutstanding, "1920.00".into())]
    );
    assert_eq!(
        raised("2026-01-25T00:00:00Z"),
        [
            (AlertKind::ClaimsOutstanding, "1920.00".into()),
            (AlertKind::ClaimOverdue, "16".into())
        ]
    );
}

/// An operator with the database redirects a claim to a key of its own, cancels another by
/// marking it paid, has a release pay another merchant's claim, or plants a claim on a
/// wallet that does not exist: `verify` names each, against the journal's claim effects
/// and releases.
#[test]
fn verify_holds_the_claims_books_to_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = prepaid_tests::ledger_in(dir.path());
    for raw in prepaid_tests::scenario_events(include_str!(
        "../scenarios/supervised_share_released_in_proportion_after_cooling_off.json"
    )) {
        let _ = ledger.submit(&raw);
    }
    assert!(ledger.verify().unwrap().is_clean());
    // Closed, so that the file holds everything (no write-ahead log left beside it).
    drop(ledger);
    let journal = dir.path().join("journal.db");
    for (edit, wallet, field) in [
        (
            format!(
                "UPDATE consumer_claims SET consumer = '{}' WHERE wallet = 'sz7'",
                hex("eve")
            ),
            "sz7",
            "claims",
        ),
        (
            "UPDATE consumer_claims SET paid = amount WHERE wallet = 'sz8'".to_owned(),
            "sz8",
            "claim payments",
        ),
        (
            format!(
                "UPDATE consumer_claims SET merchant = '{}' WHERE wallet = 'sz6'",
                hex("gym")
            ),
            "sz6",
            "claims",
        ),
        // A claim planted on a wallet the journal does not hold, first in line.
        (
            format!(
                "INSERT INTO consumer_claims VALUES ('ghost:1:0', 'ghost', '{}', '{}', 100000, 0, 'expired', 0)",
                hex("school"),
                hex("eve")
            ),
            "ghost",
            "claims",
        ),
    ] {
        let copy = dir.path().join("edited.db");
        std::fs::copy(&journal, &copy).unwrap();
        rusqlite::Connection::open(&copy).unwrap().execute(&edit, []).unwrap();
        let edited = prepaid_tests::ledger(prepaid_host::StoreConfig::Sqlite(copy.clone()));
        let report = edited.verify().unwrap();
        let named: Vec<(&str, &str)> = report
            .divergences
            .iter()
            .map(|divergence| (divergence.wallet.as_str(), divergence.field.as_str()))
            .collect();
        assert!(named.contains(&(wallet, field)), "{edit}: {:#?}", report.divergences);
        drop(edited);
        std::fs::remove_file(&copy).unwrap();
    }
}
