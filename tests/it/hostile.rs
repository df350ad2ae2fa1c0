//! Misbehaving components are contained: a panic, an endless loop, a memory bomb,
//! unbounded recursion, an oversized output and garbage effects each end as a recorded,
//! replayable outcome with a readable error, nothing changes, and the journal stays
//! verifiable. A component that behaves but keeps its state in bytes of its own is
//! indexed under its parties all the same.

use prepaid_host::engine::FUEL_PER_EVENT;
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::{Clock, Funding, Ledger};
use prepaid_tests::{guest_bytes, sessions_open, sqlite_store, verify};

/// Sends an `open` to a ledger running the guest `name`; returns the recorded error code,
/// message and fuel, after checking the journal verifies.
fn run_guest(name: &str) -> (String, String, u64) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(sqlite_store(dir.path()), prepaid_tests::engine())
        .unwrap()
        .with_clock(Clock::Scripted)
        .with_funding(Funding::Declared);
    ledger.install(&guest_bytes(name)).unwrap();
    let submitted = ledger.submit(&sessions_open()).unwrap();
    assert!(!submitted.verdict.ok, "{name}: the guest's event was accepted");
    assert!(submitted.verdict.effects.is_empty());
    assert_eq!(ledger.head("w1").unwrap().unwrap().state, None, "{name}: state changed");
    // On a fresh engine, as an auditor would: nothing compiled for the apply is reused.
    let report = verify(&SqliteStore::open(&dir.path().join("journal.db")).unwrap()).unwrap();
    assert!(report.is_clean(), "{name}: {:?}", report.divergences);
    assert_eq!(report.entries, 1);
    let error = submitted.verdict.error.unwrap();
    (error.code, error.message, submitted.entry.fuel)
}

#[test]
fn a_panic_reaches_the_journal_as_its_message_and_location() {
    let (code, message, _) = run_guest("panic");
    assert_eq!(code, "contract_panic");
    assert!(message.contains("the test guest panics on purpose"), "{message}");
    assert!(
        message.contains("tests/guest/src/lib.rs:"),
        "the location is missing: {message}"
    );
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let (code, _, fuel) = run_guest("spin");
    assert_eq!(code, "out_of_fuel");
    assert_eq!(fuel, FUEL_PER_EVENT);
}

#[test]
fn a_memory_bomb_hits_the_memory_cap() {
    let (code, message, _) = run_guest("memory");
    assert_eq!(code, "contract_panic");
    assert!(message.contains("memory allocation"), "{message}");
}

#[test]
fn unbounded_recursion_traps() {
    let (code, message, _) = run_guest("recursion");
    assert_eq!(code, "contract_trap", "{message}");
}

#[test]
fn an_oversized_output_is_refused() {
    let (code, message, _) = run_guest("big-output");
    assert_eq!(code, "output_too_large", "{message}");
}

#[test]
fn garbage_effects_never_reach_the_rail() {
    let (code, message, _) = run_guest("garbage");
    assert_eq!(code, "bad_output", "{message}");
}

/// State bytes the contract did not write (a corrupted store, a hostile host) are refused
/// by the contract itself, deterministically, and nothing changes.
#[test]
fn garbage_state_bytes_are_refused_by_the_contract() {
    use prepaid_host::Rules;

    let contract = prepaid_tests::engine().load(&prepaid_tests::component_bytes()).unwrap();
    let raw = sessions_open();
    let ctx = raw.context().unwrap();
    let refund = r#"{"type":"refund"}"#;
    for garbage in [&b""[..], b"\xff\x00\x13", b"{}", br#"{"consumer": 1}"#, &[b'['; 10_000]] {
        let first = contract.apply(Some(garbage), &ctx, refund).unwrap();
        let error = first.verdict.error.as_ref().expect("garbage state was accepted");
        assert_eq!(error.code, "bad_state", "{}", error.message);
        assert_eq!(first.state, None);
        assert_eq!(
            contract.apply(Some(garbage), &ctx, refund).unwrap(),
            first,
            "not deterministic"
        );
    }
}

/// A wallet whose state this build does not read natively (a component with an encoding of
/// its own, as a migrated one may have) is indexed under its parties by its component's
/// view, so access checks, which read the index, let its consumer and merchant in.
#[test]
fn a_state_the_host_does_not_read_is_indexed_under_its_parties_all_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(sqlite_store(dir.path()), prepaid_tests::engine())
        .unwrap()
        .with_clock(Clock::Scripted)
        .with_funding(Funding::Declared);
    ledger.install(&guest_bytes("opaque-state")).unwrap();
    let open = sessions_open();
    assert!(ledger.submit(&open).unwrap().verdict.ok);
    let party = |name: &str| open.event[name].as_str().map(str::to_owned);
    assert_eq!(ledger.parties("w1").unwrap(), (party("merchant"), party("consumer")));
    assert_eq!(
        ledger.wallets_of(open.event["consumer"].as_str().unwrap()).unwrap(),
        ["w1"]
    );
}
