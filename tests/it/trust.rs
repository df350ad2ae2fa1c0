//! The platform's trust file: an `open` naming a regulator it does not list, or made on a
//! component it does not list, is refused and records nothing, alone or inside a batch;
//! an auditor's check names every wallet outside it.

use prepaid_host::trust::{Regulator, Trust};
use prepaid_host::verify::untrusted_wallets;
use prepaid_host::{Error, RefusalCode};
use prepaid_tests::{guest_bytes, ledger_in, scenario_events};

/// Two opens, each approved by the regulator it names: `city` for w1, `gym` (the merchant
/// itself) for w2; then a request on w1.
fn events() -> Vec<prepaid_host::Envelope> {
    scenario_events(
        r#"{"name": "trust", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
            {"at": "2026-01-05T09:00:00Z", "wallet": "w2", "by": "bob",
             "event": {"type": "open", "consumer": "bob", "merchant": "gym", "regulator": "gym",
                       "product": {"kind": "sessions", "sessions": 10, "price": "50000.00", "list_price": "5000.00"},
                       "policy": {"cooling_off_days": 0, "deemed_confirm_days": 0, "supervised_share": 1}}},
            {"at": "2026-01-06T09:00:00Z", "wallet": "w1", "by": "gym",
             "event": {"type": "request", "request": "r1", "units": 2}}
        ]}"#,
    )
}

/// A trust file listing the city and `components`.
fn trust(components: Vec<String>) -> Trust {
    Trust {
        regulators: vec![Regulator {
            key: events()[0].event["regulator"].as_str().unwrap().to_owned(),
            name: "city".into(),
            region: "Shanghai".into(),
        }],
        components,
        revoked: Vec::new(),
    }
}

fn refusal(result: prepaid_host::Result<prepaid_host::Submitted>) -> RefusalCode {
    match result {
        Err(Error::Refused(refusal)) => refusal.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_open_naming_an_untrusted_regulator_is_refused_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    let ledger = {
        let current = ledger.current().unwrap();
        ledger.with_trust(trust(vec![current]))
    };
    let events = events();
    assert!(ledger.submit(&events[0]).unwrap().verdict.ok);
    assert_eq!(refusal(ledger.submit(&events[1])), RefusalCode::UntrustedRegulator);
    assert!(ledger.head("w2").unwrap().is_none(), "nothing is recorded for w2");
    // Inside a batch, the refused open gets its refusal in its place and the others go on.
    let dir = tempfile::tempdir().unwrap();
    let batched = ledger_in(dir.path());
    let batched = {
        let current = batched.current().unwrap();
        batched.with_trust(trust(vec![current]))
    };
    let results = batched.submit_batch(&events).unwrap();
    assert!(results[0].as_ref().unwrap().verdict.ok);
    assert!(matches!(&results[1], Err(Error::Refused(refusal)) if refusal.code == RefusalCode::UntrustedRegulator));
    assert!(results[2].as_ref().unwrap().verdict.ok);
    assert!(batched.head("w2").unwrap().is_none());
    assert_eq!(batched.head("w1").unwrap().unwrap().seq, 2);
}

#[test]
fn an_open_on_an_untrusted_component_is_refused_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path()).with_trust(trust(vec!["0".repeat(64)]));
    assert_eq!(refusal(ledger.submit(&events()[0])), RefusalCode::UntrustedComponent);
    assert!(ledger.head("w1").unwrap().is_none());
}

#[test]
fn untrusted_wallets_names_each_wallet_outside_the_trust_file() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    let current = ledger.current().unwrap();
    for event in events() {
        ledger.submit(&event).unwrap();
    }
    let store = prepaid_host::store::sqlite::SqliteStore::open(&dir.path().join("journal.db")).unwrap();
    let named = untrusted_wallets(&store, &trust(vec![current.clone()])).unwrap();
    assert_eq!(named.len(), 1, "{named:?}");
    assert_eq!(named[0].wallet, "w2");
    assert!(named[0].reason.contains("regulator"), "{}", named[0].reason);
    let named = untrusted_wallets(&store, &trust(vec!["0".repeat(64)])).unwrap();
    assert_eq!(
        named.iter().map(|wallet| wallet.wallet.as_str()).collect::<Vec<_>>(),
        ["w1", "w2"]
    );
    assert!(named[0].reason.contains(&current));
}

#[test]
fn a_malformed_trust_file_is_refused_with_the_reason() {
    for (text, says) in [
        ("{}", "missing field"),
        (
            r#"{"regulators": [], "components": []}"#,
            "at least one regulator and one component",
        ),
        (
            r#"{"regulators": [{"key": "xyz", "name": "city", "region": "x"}], "components": ["00"]}"#,
            "64 lower-case hex",
        ),
        (
            r#"{"regulators": [{"key": "aa", "name": "city", "region": "x", "extra": 1}], "components": []}"#,
            "unknown field",
        ),
        (
            r#"{"regulators": [{"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "name": "city", "region": "x"}], "components": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "revoked": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}"#,
            "both trusted and revoked",
        ),
        (
            r#"{"regulators": [{"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "name": "city", "region": "x"}], "components": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "revoked": ["0"]}"#,
            "64 lower-case hex",
        ),
    ] {
        let error = Trust::parse(text).unwrap_err();
        assert!(format!("{error:#}").contains(says), "{text}: {error:#}");
    }
}

/// A rejected `open` used to leave a head pinned to the component of its day, on which a
/// later `open` of the same wallet id would run even after the platform stopped trusting
/// it. A rejected `open` now leaves nothing behind: the next `open` of the id runs on, and
/// is checked against, the component new wallets get.
#[test]
fn a_rejected_open_leaves_no_wallet_pinned_behind() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    let mut unsigned = events()[0].clone();
    unsigned.signature = None;
    unsigned.id = "first-try".into();
    assert_eq!(
        refusal(ledger.submit(&unsigned)),
        RefusalCode::Unattributed(prepaid_contract::ErrorCode::BadSignature)
    );
    assert_eq!(ledger.head("w1").unwrap(), None, "nothing is recorded");
    // The platform now opens wallets on another component, the only one it trusts (here a
    // test guest stands in for a fixed release), and stops trusting the old one.
    let old = ledger.current().unwrap();
    let release = ledger.install(&guest_bytes("garbage")).unwrap();
    let ledger = ledger.with_trust(trust(vec![release.clone()]));
    ledger.submit(&events()[0]).unwrap();
    let head = ledger.head("w1").unwrap().unwrap();
    assert_eq!((head.seq, head.code_hash != old), (1, true));
    assert_eq!(head.code_hash, release);
}
