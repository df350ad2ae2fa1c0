//! The component boundary: what a contract may import, and a wrong signer's event changing
//! nothing.

use prepaid_contract::ErrorCode;
use prepaid_host::engine::ContractEngine;
use prepaid_host::testkit::scenario::Scenario;
use prepaid_host::{Error, RefusalCode};
use prepaid_tests::{ledger_in, sessions_open};

#[test]
fn a_component_with_a_forbidden_import_is_refused_by_name() {
    let component = r#"
        (component
          (import "wasi:clocks/wall-clock@0.2.0" (instance
            (export "now" (func (result u64)))))
        )
    "#;
    let error = ContractEngine::new()
        .unwrap()
        .load(component.as_bytes())
        .err()
        .expect("the component was accepted");
    let message = format!("{error:#}");
    assert!(message.contains("imports `wasi:clocks/wall-clock@0.2.0`"), "{message}");
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    let error = ContractEngine::new()
        .unwrap()
        .load(b"not wasm")
        .err()
        .expect("garbage was accepted");
    assert!(format!("{error:#}").contains("not a valid WebAssembly component"));
}

#[test]
fn a_step_signed_by_the_wrong_actor_is_rejected_and_changes_nothing() {
    let scenario = Scenario::parse(
        r#"{"name": "wrong signer", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}},
            {"at": "2026-01-06T09:00:00Z", "wallet": "w1", "by": "gym", "event": {"type": "request", "request": "r1", "units": 2}},
            {"at": "2026-01-06T09:01:00Z", "wallet": "w1", "by": "gym", "event": {"type": "authorize", "request": "r1", "units": 2}},
            {"at": "2026-01-06T09:02:00Z", "wallet": "w1", "by": "bob", "event": {"type": "refund"}}
        ]}"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    let raws = scenario.raw_events().unwrap();
    ledger.submit(&raws[0]).unwrap();
    let before_request = ledger.submit(&raws[1]).unwrap();
    let state_before = ledger.head("w1").unwrap().unwrap().state;
    let view_before = ledger.view("w1").unwrap();
    for raw in &raws[2..] {
        // Not shown to come from a party of the wallet: refused, and recorded nowhere.
        let error = ledger.submit(raw).unwrap_err();
        assert!(
            matches!(&error, Error::Refused(refusal) if refusal.code == RefusalCode::Unattributed(ErrorCode::BadSignature)),
            "{error}"
        );
        let head = ledger.head("w1").unwrap().unwrap();
        assert_eq!((head.seq, &head.state), (before_request.entry.seq, &state_before));
        assert_eq!(ledger.view("w1").unwrap(), view_before);
    }
}

/// An `open` whose approval is not the named regulator's, or whose terms changed after the
/// regulator approved them, is rejected: no unreviewed product can be sold.
#[test]
fn open_needs_the_regulators_approval_of_exactly_these_terms() {
    use prepaid_contract::event::Open;
    use prepaid_contract::Event;
    use prepaid_host::keys::{approve_terms, dev_key, sign_event};

    let approved = sessions_open();
    let Ok(Event::Open(open)) = Event::parse(&approved.body()) else {
        panic!("not an open")
    };
    // The consumer signs each variant for its own wallet, as a real client would.
    let signed = |wallet: &str, open: Open| {
        let event = Event::Open(open);
        let mut raw = approved.clone();
        raw.wallet = wallet.into();
        raw.event = serde_json::from_slice(&event.canonical_json()).unwrap();
        raw.signature = Some(sign_event(&dev_key("alice"), wallet, &raw.id, &event).to_string());
        raw
    };
    let self_approved = Open {
        approval: approve_terms(&dev_key("eve"), &open),
        ..open.clone()
    };
    let mut changed_after_approval = open.clone();
    changed_after_approval.policy.cooling_off_days = 0;

    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    for (wallet, open) in [("forged", self_approved), ("changed", changed_after_approval)] {
        // A rejected `open` creates no wallet: nothing is recorded.
        let error = ledger.submit(&signed(wallet, open)).unwrap_err();
        assert!(
            matches!(&error, Error::Refused(refusal) if refusal.code == RefusalCode::Unattributed(ErrorCode::BadApproval)),
            "{wallet}: {error}"
        );
        assert_eq!(ledger.head(wallet).unwrap(), None);
    }
    assert!(ledger.submit(&approved).unwrap().verdict.ok, "the approved terms open");
}

/// Every trap kind of the wasmtime in use is deliberately classified as the component's
/// (recorded) or the host's (aborts the event). A wasmtime upgrade that adds a trap kind
/// fails here until someone decides which it is.
#[test]
fn every_trap_kind_is_classified() {
    let unclassified: Vec<String> = (0..=u8::MAX)
        .filter_map(wasmtime::Trap::from_u8)
        .filter(|trap| prepaid_host::engine::trap_class(*trap).is_none())
        .map(|trap| format!("{trap:?}"))
        .collect();
    assert!(unclassified.is_empty(), "unclassified trap kinds: {unclassified:?}");
}
