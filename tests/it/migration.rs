//! Rules that change: a wallet moves onto new code by a `migrate` event its regulator
//! signs, run by the new component's `migrate` on the state the old one left; components
//! of ABI 0.2.0 and 0.3.0 run side by side, and `verify` follows a wallet's code across its
//! migrations, replaying each stretch with its own code.

use std::path::Path;

use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::Store as _;
use prepaid_host::trust::{Regulator, Trust};
use prepaid_host::{Clock, Contracts, Envelope, Error, Funding, Ledger, RefusalCode};
use prepaid_tests::{
    component_bytes, guest_bytes, request_two, sessions_open, sessions_without_cooling_off, signed, sqlite_store,
    two_sessions_used, verify,
};
use serde_json::json;

/// The component of ABI 0.2.0 that the replay-forever fixture's wallets were opened on.
fn component_0_2_0() -> Vec<u8> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/journal-0.2.0.bundle");
    let mut components = SqliteStore::open_bundle(&fixture).unwrap().components().unwrap();
    assert_eq!(components.len(), 1, "the fixture pins one component");
    components.remove(0).1
}

/// A ledger on the SQLite journal in `dir`, on the system clock.
fn open_in(dir: &Path) -> Ledger {
    Ledger::open(sqlite_store(dir), prepaid_tests::engine())
        .unwrap()
        .with_clock(Clock::System)
        .with_funding(Funding::Declared)
}

/// `signer`'s `migrate` of w1 from `from` to `to`, with alice's consent: today's rules hold
/// a pending request's amount back at a refund after the cooling-off period, which 0.2.0
/// gave back (1000.00 now against
/// 800.00, with 200.00 requested), so the plan finds she would get less and the migration
/// waits for her.
fn migrate(signer: &str, from: &str, to: &str) -> Envelope {
    let asked = signed("w1", "m1", "alice", json!({"type": "migrate", "from": from, "to": to}));
    signed(
        "w1",
        "m1",
        signer,
        json!({"type": "migrate", "from": from, "to": to, "consent": asked.signature}),
    )
}

fn refusal<T: std::fmt::Debug>(result: prepaid_host::Result<T>) -> RefusalCode {
    match result {
        Err(Error::Refused(refusal)) => refusal.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn trusting(ledger: Ledger, components: &[&str]) -> Ledger {
    revoking(ledger, components, &[])
}

fn revoking(ledger: Ledger, components: &[&str], revoked: &[&str]) -> Ledger {
    let list = |hashes: &[&str]| hashes.iter().map(|hash| (*hash).to_owned()).collect();
    ledger.with_trust(Trust {
        regulators: vec![Regulator {
            key: sessions_open().event["regulator"].as_str().unwrap().to_owned(),
            name: "city".into(),
            region: "Shanghai".into(),
        }],
        components: list(components),
        revoked: list(revoked),
    })
}

/// Alice's `open` of `wallet`, as [`sessions_open`] opens w1.
fn opening(wallet: &str) -> Envelope {
    let mut open = sessions_open().untimed();
    open.wallet = wallet.into();
    open.sign(&prepaid_host::keys::dev_key("alice")).unwrap();
    open
}

#[test]
fn the_regulator_moves_a_wallet_from_abi_0_2_0_onto_todays_code_and_verify_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let open = || open_in(dir.path());
    let ledger = open();
    let contracts = Contracts::new(prepaid_tests::engine());
    let (old_bytes, new_bytes) = (component_0_2_0(), component_bytes());
    assert_eq!(contracts.load(&old_bytes).unwrap().abi(), "0.2.0");
    assert_eq!(contracts.load(&new_bytes).unwrap().abi(), "0.4.0");

    // A wallet opened on the old code with no cooling-off period, a request pending.
    let old = ledger.install(&old_bytes).unwrap();
    let ledger = trusting(ledger, &[&old]);
    assert!(ledger.submit(&sessions_without_cooling_off("w1")).unwrap().verdict.ok);
    request_two(&ledger, "w1");
    let before = ledger.view("w1").unwrap().unwrap();

    // The platform installs today's code. Until its trust file lists it, no wallet moves,
    // and a ledger given no trust file moves none at all.
    let new = ledger.install(&new_bytes).unwrap();
    assert_eq!(
        refusal(open().submit(&migrate("city", &old, &new))),
        RefusalCode::UntrustedComponent
    );
    assert_eq!(
        refusal(ledger.submit(&migrate("city", &old, &new))),
        RefusalCode::UntrustedComponent
    );
    let ledger = trusting(open(), &[&old, &new]);
    ledger.install(&new_bytes).unwrap();
    // Today's rules hold back a pending request's amount at a refund after the cooling-off
    // period, which 0.2.0 gave back: alice would get less, so the regulator's signature
    // alone moves nothing.
    let unconsented = signed("w1", "m1", "city", json!({"type": "migrate", "from": old, "to": new}));
    assert_eq!(refusal(ledger.submit(&unconsented)), RefusalCode::AwaitsConsent);

    // Only the wallet's regulator moves it, from the code it runs, onto stored code; a
    // refused migration records nothing.
    let elsewhere = "ab".repeat(32);
    for (attempt, expected) in [
        (migrate("gym", &old, &new), RefusalCode::MigrationRefused),
        (migrate("alice", &old, &new), RefusalCode::MigrationRefused),
        (migrate("city", &new, &new), RefusalCode::MigrationRefused),
        (migrate("city", &old, &old), RefusalCode::MigrationRefused),
    ] {
        assert_eq!(refusal(ledger.submit(&attempt)), expected, "{}", attempt.event);
    }
    let elsewhere_trusted = trusting(open(), &[&old, &new, &elsewhere]);
    assert_eq!(
        refusal(elsewhere_trusted.submit(&migrate("city", &old, &elsewhere))),
        RefusalCode::MigrationRefused
    );
    let head = ledger.head("w1").unwrap().unwrap();
    assert_eq!((head.seq, head.code_hash.as_str()), (2, old.as_str()));
    // 0.2.0 wrote the wallet as JSON.
    assert_eq!(head.state.as_deref().and_then(<[u8]>::first), Some(&b'{'));

    // What it would do, before anyone signs: nothing to the figures.
    let preview = ledger.dry_run(&migrate("city", &old, &new)).unwrap();
    assert_eq!((preview.verdict.ok, preview.view.as_ref()), (true, Some(&before)));

    let moved = ledger.submit(&migrate("city", &old, &new)).unwrap();
    assert!(
        moved.verdict.ok && moved.verdict.effects.is_empty(),
        "{:?}",
        moved.verdict
    );
    assert_eq!(moved.entry.code_hash, new);
    let head = ledger.head("w1").unwrap().unwrap();
    assert_eq!(head.code_hash, new);
    assert_eq!(ledger.view("w1").unwrap().unwrap(), before);
    // Today's code keeps the same wallet as CBOR, smaller.
    let state = head.state.unwrap();
    assert_eq!(state[0] & 0xe0, 0xa0, "a CBOR map");
    let wallet = prepaid_contract::state::Wallet::decode(&state).unwrap();
    assert!(state.len() < serde_json::to_vec(&wallet).unwrap().len());
    // The same migration again is the recorded one.
    assert!(ledger.submit(&migrate("city", &old, &new)).unwrap().replayed);

    // The wallet goes on under the new code: the pending request is authorized.
    let authorize = signed(
        "w1",
        "a1",
        "alice",
        json!({"type": "authorize", "request": "r1", "units": 2}),
    );
    let authorized = ledger.submit(&authorize).unwrap();
    assert_eq!(authorized.entry.code_hash, new);
    assert_eq!(authorized.verdict.effects[0].amount, "200.00");

    // An auditor replays each stretch with its own code.
    let journal = dir.path().join("journal.db");
    let report = verify(&SqliteStore::open(&journal).unwrap()).unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
    assert_eq!(report.entries, 4);

    // A change of code that no migration names is a divergence.
    rusqlite::Connection::open(&journal)
        .unwrap()
        .execute(
            "UPDATE journal SET code_hash = ?1 WHERE wallet = 'w1' AND seq = 2",
            [&new],
        )
        .unwrap();
    let report = verify(&SqliteStore::open(&journal).unwrap()).unwrap();
    let first = &report.divergences[0];
    assert_eq!((first.seq, first.field.as_str()), (2, "code_hash"), "{report:?}");
}

#[test]
fn revoked_code_pays_no_merchant_until_its_wallet_migrates_and_refunds_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let open = || open_in(dir.path());
    let (old_bytes, new_bytes) = (component_0_2_0(), component_bytes());
    let ledger = open();
    let old = ledger.install(&old_bytes).unwrap();
    let ledger = trusting(ledger, &[&old]);
    for wallet in ["w1", "w2"] {
        assert!(ledger.submit(&opening(wallet)).unwrap().verdict.ok);
    }
    request_two(&ledger, "w1");

    // The platform finds the old code wrong: it revokes it and trusts today's instead.
    let new = ledger.install(&new_bytes).unwrap();
    let ledger = revoking(open(), &[&new], &[&old]);
    let authorize = signed(
        "w1",
        "a1",
        "alice",
        json!({"type": "authorize", "request": "r1", "units": 2}),
    );
    assert_eq!(refusal(ledger.submit(&authorize)), RefusalCode::ComponentRevoked);
    assert_eq!(refusal(ledger.dry_run(&authorize)), RefusalCode::ComponentRevoked);
    assert_eq!(
        ledger.head("w1").unwrap().unwrap().seq,
        2,
        "a refused release records nothing"
    );
    // No wallet opens on it, even one the ledger would pin there.
    assert_eq!(refusal(ledger.submit(&opening("w3"))), RefusalCode::UntrustedComponent);

    // What releases nothing goes on: the consumer takes the money back.
    let refunded = ledger
        .submit(&signed("w2", "f1", "alice", json!({"type": "refund"})))
        .unwrap();
    assert!(refunded.verdict.ok, "{:?}", refunded.verdict);
    assert!(refunded.verdict.effects.iter().all(|effect| effect.kind == "refund"));
    assert_eq!(
        refunded
            .verdict
            .effects
            .iter()
            .map(|effect| effect.amount.as_str())
            .collect::<Vec<_>>(),
        ["1000.00"]
    );

    // The regulator moves the wallet away; the new code pays the request.
    assert!(ledger.submit(&migrate("city", &old, &new)).unwrap().verdict.ok);
    let authorized = ledger.submit(&authorize).unwrap();
    assert_eq!(authorized.verdict.effects[0].amount, "200.00");

    // An auditor reading the trust file sees which wallet still runs revoked code.
    let untrusted = prepaid_host::verify::untrusted_wallets(
        &SqliteStore::open(&dir.path().join("journal.db")).unwrap(),
        ledger.trust().unwrap(),
    )
    .unwrap();
    assert_eq!(
        untrusted
            .iter()
            .map(|wallet| wallet.wallet.as_str())
            .collect::<Vec<_>>(),
        ["w2"]
    );
    assert!(untrusted[0].reason.contains("revokes"), "{}", untrusted[0].reason);
}

/// What `path` gives under the old and the new code: (consumer, merchant) each.
fn split(wallet: &prepaid_host::plan::WalletPlan, path: &str) -> [(String, String); 2] {
    let new = wallet.new.as_ref().expect("the new code takes the wallet");
    [&wallet.old, new].map(|terms| {
        let split = &terms.paths[path];
        (split.consumer.to_string(), split.merchant.to_string())
    })
}

#[test]
fn the_plan_reports_exactly_the_money_a_changed_rule_moves_before_anyone_signs() {
    let dir = tempfile::tempdir().unwrap();
    plan_reports_the_money_a_changed_rule_moves(sqlite_store(dir.path()));
}

#[test]
fn the_plan_reports_the_same_on_postgres() {
    plan_reports_the_money_a_changed_rule_moves(prepaid_tests::postgres_store());
}

/// On `store`: wallets on today's rule, a plan onto the rule changed on purpose, then the
/// migrations it foresees, checked against what the wallets then pay.
fn plan_reports_the_money_a_changed_rule_moves(store: prepaid_host::StoreConfig) {
    let ledger = Ledger::open(store, prepaid_tests::engine())
        .unwrap()
        .with_clock(Clock::System)
        .with_funding(Funding::Declared);
    let today = ledger.install(&component_bytes()).unwrap();
    // The rule changed on purpose: used sessions are valued at the paid rate at a refund
    // (100.00 each here), not at the list price (120.00).
    let changed_bytes = guest_bytes("paid-rate-sessions");
    let changed = prepaid_host::outcome::sha256_hex(&changed_bytes);
    let ledger = trusting(ledger, &[&today, &changed]);

    two_sessions_used(&ledger, "w1");
    assert!(ledger.submit(&sessions_without_cooling_off("w2")).unwrap().verdict.ok);
    assert!(ledger.submit(&sessions_without_cooling_off("w3")).unwrap().verdict.ok);
    assert!(
        ledger
            .submit(&signed("w3", "f1", "alice", json!({"type": "refund"})))
            .unwrap()
            .verdict
            .ok
    );
    let heads = || ["w1", "w2", "w3"].map(|wallet| ledger.head(wallet).unwrap().unwrap().seq);
    let before = heads();

    let plan = ledger.plan_migration(&changed_bytes).unwrap();
    assert_eq!(plan.to, changed);
    // The closed wallet is not in it; the unused one does not change.
    assert_eq!(
        plan.wallets
            .iter()
            .map(|wallet| wallet.wallet.as_str())
            .collect::<Vec<_>>(),
        ["w1", "w2"]
    );
    let (w1, w2) = (&plan.wallets[0], &plan.wallets[1]);
    assert!(w1.changes && !w1.consumer_worse, "{w1:?}");
    assert!(!w2.changes, "{w2:?}");
    // A refund today: 1000.00 - 2 x 120.00 = 760.00 back and 40.00 more to gym under
    // today's rule; 800.00 back and nothing more under the new one.
    let owned = |pairs: [(&str, &str); 2]| pairs.map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(
        split(w1, "refund_now"),
        owned([("760.00", "40.00"), ("800.00", "0.00")])
    );
    // A closure values use at the paid rate under both; no rule of time moves anything.
    assert_eq!(split(w1, "at_closure"), owned([("800.00", "0.00"), ("800.00", "0.00")]));
    assert_eq!(split(w1, "at_expiry"), owned([("0.00", "0.00"), ("0.00", "0.00")]));
    assert_eq!(w1.old.view, w1.new.as_ref().unwrap().view, "a migration moves no money");
    let refund = &plan.totals.paths["refund_now"];
    assert_eq!(
        [
            refund.consumer_old,
            refund.consumer_new,
            refund.merchant_old,
            refund.merchant_new
        ]
        .map(|a| a.to_string()),
        ["1760.00", "1800.00", "40.00", "0.00"]
    );
    assert_eq!(
        (plan.totals.wallets, plan.totals.changed, plan.totals.consumer_worse),
        (2, 1, 0)
    );

    // Planning wrote nothing: no entry, and not even the component.
    assert_eq!(heads(), before);
    assert!(ledger.component(&changed).unwrap().is_none());

    // The regulator signs the migration naming the plan it read; the refund is then what
    // the plan said.
    ledger.install(&changed_bytes).unwrap();
    let moved = signed(
        "w1",
        "m1",
        "city",
        json!({"type": "migrate", "from": today, "to": changed, "plan": plan.hash}),
    );
    assert!(ledger.submit(&moved).unwrap().verdict.ok);
    let refunded = ledger
        .submit(&signed("w1", "f1", "alice", json!({"type": "refund"})))
        .unwrap();
    let effects: Vec<_> = refunded
        .verdict
        .effects
        .iter()
        .map(|effect| (effect.kind.as_str(), effect.amount.as_str()))
        .collect();
    assert_eq!(effects, [("refund", "800.00")]);

    // The other way, a wallet opened on the new rule would give its consumer less on
    // today's: the plan marks it for the consumer's consent.
    two_sessions_used(&ledger, "w4");
    let back = ledger.plan_migration(&component_bytes()).unwrap();
    let w4 = back.wallets.iter().find(|wallet| wallet.wallet == "w4").unwrap();
    assert!(w4.consumer_worse, "{w4:?}");
    assert_eq!(
        split(w4, "refund_now"),
        owned([("800.00", "0.00"), ("760.00", "40.00")])
    );
    assert_eq!(back.totals.consumer_worse, 1);

    // So its migration waits for her: the regulator's signature alone, or with a consent
    // she gave another migration, moves nothing.
    let back_to_today = |id: &str, consent: Option<&Envelope>| {
        let mut event = json!({"type": "migrate", "from": changed, "to": today});
        if let Some(consent) = consent {
            event["consent"] = json!(consent.signature);
        }
        signed("w4", id, "city", event)
    };
    let asked = |id: &str| {
        signed(
            "w4",
            id,
            "alice",
            json!({"type": "migrate", "from": changed, "to": today}),
        )
    };
    for (attempt, code) in [
        (back_to_today("m1", None), RefusalCode::AwaitsConsent),
        (back_to_today("m1", Some(&asked("m0"))), RefusalCode::MigrationRefused),
    ] {
        match ledger.submit(&attempt) {
            Err(Error::Refused(refusal)) => {
                assert_eq!(refusal.code, code);
                assert!(refusal.message.contains("consent"), "{}", refusal.message);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(ledger.head("w4").unwrap().unwrap().code_hash, changed);
    // With her consent, signed over the same migration, it moves, and her refund is then
    // what today's rule gives.
    assert!(
        ledger
            .submit(&back_to_today("m1", Some(&asked("m1"))))
            .unwrap()
            .verdict
            .ok
    );
    let refunded = ledger
        .submit(&signed("w4", "f1", "alice", json!({"type": "refund"})))
        .unwrap();
    let mut effects: Vec<_> = refunded
        .verdict
        .effects
        .iter()
        .map(|effect| (effect.kind.as_str(), effect.amount.as_str()))
        .collect();
    effects.sort();
    assert_eq!(effects, [("refund", "760.00"), ("release", "40.00")]);
    // Replay asks the plan again at each migration, and finds her consent where it is due.
    let report = ledger.verify().unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
}

/// A component of ABI 0.3.0 that takes any wallet over, whoever signs, and makes its
/// merchant its consumer: trusted by the platform, it still moves nothing, since the host
/// checks the regulator's signature and the wallet itself rather than trust the code a
/// wallet moves to.
#[test]
fn code_that_would_take_a_wallet_over_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_in(dir.path());
    let takeover = ledger.install(&guest_bytes("takeover")).unwrap();
    let today = ledger.install(&component_bytes()).unwrap();
    let ledger = trusting(ledger, &[&today, &takeover]);
    assert!(ledger.submit(&sessions_without_cooling_off("w1")).unwrap().verdict.ok);
    let before = ledger.view("w1").unwrap().unwrap();
    let take = |signer: &str, id: &str| {
        signed(
            "w1",
            id,
            signer,
            json!({"type": "migrate", "from": today, "to": takeover}),
        )
    };
    for (signer, id, says) in [
        ("gym", "m1", "not the wallet's regulator's"),
        ("city", "m1", "would change the wallet"),
        // The wallet kept, and a second state after it, which the host would not read.
        ("city", "trailing", "does not read"),
    ] {
        match ledger.submit(&take(signer, id)) {
            Err(Error::Refused(refusal)) => {
                assert_eq!(refusal.code, RefusalCode::MigrationRefused);
                assert!(refusal.message.contains(says), "{signer}: {}", refusal.message);
            }
            other => panic!("{signer}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(ledger.head("w1").unwrap().unwrap().code_hash, today);
    assert_eq!(ledger.view("w1").unwrap().unwrap(), before);
}

/// A migration that would give the consumer less, handed in by the regulator, waits: the
/// wallet keeps its rules, the consumer is told and sees both terms, and only their own
/// signature of the migration the regulator signed moves it; anyone else's, or a
/// migration nobody regulates, keeps nothing waiting.
#[test]
fn a_migration_that_gives_the_consumer_less_waits_for_her_consent() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, changed, today) = used_on_the_changed_rule(dir.path());
    let migration = |signer: &str| {
        signed(
            "w1",
            "m1",
            signer,
            json!({"type": "migrate", "from": changed, "to": today}),
        )
    };
    let told = || migrations_alice_is_told_of(&ledger);

    // The merchant's migration is refused, and nothing waits.
    assert_eq!(
        refusal(ledger.migrate(&migration("gym"))),
        RefusalCode::MigrationRefused
    );
    assert!(ledger.waiting_migration("w1").unwrap().is_none());
    // The regulator's, submitted as an event, is refused for want of her consent...
    assert_eq!(refusal(ledger.submit(&migration("city"))), RefusalCode::AwaitsConsent);
    assert!(ledger.waiting_migration("w1").unwrap().is_none());
    // ...and handed in as a migration, it waits, the wallet on its rules, and she is told.
    assert_eq!(
        ledger.migrate(&migration("city")).unwrap(),
        prepaid_host::Migrated::Waiting
    );
    assert_eq!(ledger.head("w1").unwrap().unwrap().code_hash, changed);
    assert_eq!(told(), 1);
    let waiting = ledger.waiting_migration("w1").unwrap().unwrap();
    assert!(waiting.plan.consumer_worse);
    assert_eq!(
        split(&waiting.plan, "refund_now"),
        [("800.00", "0.00"), ("760.00", "40.00")].map(|(a, b)| (a.to_owned(), b.to_owned()))
    );

    // Anyone's consent but hers (the merchant's, or hers to another event) moves nothing,
    // and the migration still waits.
    let consent_of = |signer: &str, id: &str| {
        signed(
            "w1",
            id,
            signer,
            json!({"type": "migrate", "from": changed, "to": today}),
        )
        .signature
        .unwrap()
    };
    for (signer, id) in [("gym", "m1"), ("alice", "m2")] {
        assert_eq!(
            refusal(ledger.consent("w1", &consent_of(signer, id))),
            RefusalCode::MigrationRefused
        );
    }
    assert_eq!(
        refusal(ledger.consent("w1", "not a signature")),
        RefusalCode::BadEnvelope
    );
    assert_eq!(ledger.head("w1").unwrap().unwrap().code_hash, changed);
    assert!(ledger.waiting_migration("w1").unwrap().is_some());

    // Hers moves it; nothing waits any more, and replay finds her consent where it is due.
    assert!(ledger.consent("w1", &consent_of("alice", "m1")).unwrap().verdict.ok);
    assert_eq!(ledger.head("w1").unwrap().unwrap().code_hash, today);
    assert!(ledger.waiting_migration("w1").unwrap().is_none());
    assert_eq!(told(), 0);
    assert_eq!(
        refusal(ledger.consent("w1", &consent_of("alice", "m1"))),
        RefusalCode::MigrationRefused
    );
    let report = ledger.verify().unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
}

/// A consent the consumer never gave is refused even where none is needed, so the journal
/// shows none she did not give; and a migration waiting for a wallet that closes (her
/// refund) waits no more: no notice, nothing beside the wallet.
#[test]
fn a_consent_is_hers_or_refused_and_a_closed_wallet_waits_for_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, changed, today) = used_on_the_changed_rule(dir.path());
    two_sessions_used(&ledger, "w2");

    // Onto the changed rule w2's consumer gets more: no consent is needed, and a made-up
    // one is refused all the same.
    let made_up = signed(
        "w2",
        "m1",
        "city",
        json!({"type": "migrate", "from": today, "to": changed, "consent": "00".repeat(64)}),
    );
    assert_eq!(refusal(ledger.submit(&made_up)), RefusalCode::MigrationRefused);
    assert_eq!(ledger.head("w2").unwrap().unwrap().code_hash, today);
    // Where the regulator asks for her consent (its plan found she would get less), the
    // migration waits for it however the wallet stands when it is handed in: no one
    // holding it back can wait until it would not. Her signature of it moves the wallet,
    // and replay finds the consent asked for.
    let asked = json!({"type": "migrate", "from": today, "to": changed, "ask_consent": true});
    assert_eq!(
        ledger.migrate(&signed("w2", "m2", "city", asked.clone())).unwrap(),
        prepaid_host::Migrated::Waiting
    );
    let consent = signed("w2", "m2", "alice", asked).signature.unwrap();
    assert!(ledger.consent("w2", &consent).unwrap().verdict.ok);
    assert_eq!(ledger.head("w2").unwrap().unwrap().code_hash, changed);

    // w1's migration back to today's waits for alice; her refund closes the wallet.
    let back = signed(
        "w1",
        "m1",
        "city",
        json!({"type": "migrate", "from": changed, "to": today}),
    );
    assert_eq!(ledger.migrate(&back).unwrap(), prepaid_host::Migrated::Waiting);
    assert!(ledger.waiting_migration("w1").unwrap().is_some());
    let refund = ledger
        .submit(&signed("w1", "f1", "alice", json!({"type": "refund"})))
        .unwrap();
    assert!(refund.verdict.ok);
    assert_eq!(ledger.view("w1").unwrap().unwrap().status, "closed");
    assert!(ledger.waiting_migration("w1").unwrap().is_none());
    assert_eq!(migrations_alice_is_told_of(&ledger), 0);
    let report = ledger.verify().unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
}

/// A ledger with w1 opened on the rule changed on purpose and two of its sessions used, and
/// today's code installed after it (new wallets open on it), both trusted: (the ledger,
/// the changed rule, today's).
fn used_on_the_changed_rule(dir: &Path) -> (Ledger, String, String) {
    let ledger = open_in(dir);
    let changed = ledger.install(&guest_bytes("paid-rate-sessions")).unwrap();
    two_sessions_used(&ledger, "w1");
    let today = ledger.install(&component_bytes()).unwrap();
    (trusting(ledger, &[&today, &changed]), changed, today)
}

/// How many migrations alice's notices say wait for her consent.
fn migrations_alice_is_told_of(ledger: &Ledger) -> usize {
    use prepaid_host::notices::{Audience, NoticeKind};
    let alice = prepaid_host::keys::public_key(&prepaid_host::keys::dev_key("alice")).to_string();
    ledger
        .platform()
        .notices_at(&Audience::Consumer(alice), ledger.clock().now().unwrap(), 7)
        .unwrap()
        .into_iter()
        .filter(|notice| notice.kind == NoticeKind::MigrationAwaitsConsent)
        .count()
}
