//! The journal and its verification: untouched journals verify; altering any field of any
//! entry, a wallet's head or a stored component is caught and named.

use std::path::Path;

use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::{Ack, Store};
use prepaid_host::testkit::scenario::{self, Scenario};
use prepaid_host::{Clock, Envelope, Error, Ledger, RefusalCode, Report};
use prepaid_tests::verify;
use prepaid_tests::{
    assert_ack_references, guest_bytes, ledger_in, paid_under_references, scenario_files, sessions_open, sqlite_store,
};

/// A journal written by a scenario of accepted and rejected events, in `dir`.
fn journal_in(dir: &Path) -> std::path::PathBuf {
    let file = scenario_files()
        .into_iter()
        .find(|file| file.ends_with("bad_input_rejected_without_change.json"))
        .unwrap();
    let ledger = ledger_in(dir);
    let mismatches = scenario::run(&Scenario::load(&file).unwrap(), &ledger, &mut Vec::new())
        .unwrap()
        .mismatches;
    assert!(mismatches.is_empty());
    dir.join("journal.db")
}

fn verify_file(path: &Path) -> Report {
    verify(&SqliteStore::open(path).unwrap()).unwrap()
}

#[test]
fn an_untouched_journal_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let report = verify_file(&journal_in(dir.path()));
    assert!(report.is_clean(), "{:?}", report.divergences);
    assert_eq!(report.wallets, 1);
    assert_eq!(report.entries, 15);
}

/// A new value for a column, different from `old` and of the same type.
fn altered(old: &rusqlite::types::Value) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match old {
        // Far enough that a moved seq cannot collide with another entry's.
        Value::Integer(n) => Value::Integer(n + 1000),
        Value::Text(text) if text.starts_with('{') => Value::Text(text.replacen(':', ": ", 1)),
        Value::Text(text) if text.len() != 64 => Value::Text(format!("{text}x")),
        Value::Text(text) => {
            let mut chars: Vec<char> = text.chars().collect();
            let last = chars.len() - 1;
            chars[last] = if chars[last] == '0' { '1' } else { '0' };
            Value::Text(chars.into_iter().collect())
        }
        Value::Blob(bytes) => {
            let mut bytes = bytes.clone();
            bytes[0] ^= 1;
            Value::Blob(bytes)
        }
        other => panic!("unexpected column value {other:?}"),
    }
}

#[test]
fn altering_any_field_of_an_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let original = journal_in(dir.path());
    let columns = [
        "seq",
        "event_id",
        "event",
        "at",
        "code_hash",
        "outcome",
        "fuel",
        "limits",
        "state_hash",
        "prev_hash",
        "entry_hash",
    ];
    // Wallet w1's entries are 1..=15; alter the 8th (an accepted request) and the 15th
    // (a rejection), field by field.
    for seq in [8, 15] {
        for column in columns {
            let copy = dir.path().join(format!("altered-{seq}-{column}.db"));
            std::fs::copy(&original, &copy).unwrap();
            let conn = rusqlite::Connection::open(&copy).unwrap();
            let old: rusqlite::types::Value = conn
                .query_row(
                    &format!("SELECT {column} FROM journal WHERE wallet = 'w1' AND seq = ?1"),
                    [seq],
                    |row| row.get(0),
                )
                .unwrap();
            let changed = conn
                .execute(
                    &format!("UPDATE journal SET {column} = ?1 WHERE wallet = 'w1' AND seq = ?2"),
                    rusqlite::params![altered(&old), seq],
                )
                .unwrap();
            assert_eq!(changed, 1);
            drop(conn);
            let report = verify_file(&copy);
            assert_eq!(
                report.divergences.len(),
                1,
                "{column} of seq {seq}: {:?}",
                report.divergences
            );
            let divergence = &report.divergences[0];
            assert_eq!(divergence.wallet, "w1", "{column} of seq {seq}");
            if column == "seq" {
                // A moved entry leaves a gap where it stood: the entry found there is named.
                assert_eq!(divergence.field, "seq", "{divergence}");
            } else {
                assert_eq!(divergence.seq, seq, "{column}: {divergence}");
            }
        }
    }
}

/// An insider who moves an entry's time names, in verify's report, both the time the
/// entry now says and the time inside the event it records, so an auditor sees what moved.
#[test]
fn a_retimed_entry_shows_both_times() {
    let dir = tempfile::tempdir().unwrap();
    let copy = journal_in(dir.path());
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let at: String = conn
        .query_row("SELECT at FROM journal WHERE wallet = 'w1' AND seq = 8", [], |row| {
            row.get(0)
        })
        .unwrap();
    let moved = format!("2031{}", &at[4..]);
    conn.execute("UPDATE journal SET at = ?1 WHERE wallet = 'w1' AND seq = 8", [&moved])
        .unwrap();
    drop(conn);
    let report = verify_file(&copy);
    let divergence = &report.divergences[0];
    assert_eq!((divergence.seq, divergence.field.as_str()), (8, "at"), "{divergence}");
    assert_eq!(divergence.recorded, moved);
    assert!(divergence.replayed.starts_with(&at), "{divergence}");
}

#[test]
fn altering_a_wallet_head_or_a_component_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let original = journal_in(dir.path());
    for (table, column, key) in [
        ("wallets", "state", "wallet = 'w1'"),
        ("wallets", "state_hash", "wallet = 'w1'"),
        ("wallets", "head_hash", "wallet = 'w1'"),
        ("wallets", "seq", "wallet = 'w1'"),
        ("components", "bytes", "1 = 1"),
    ] {
        let copy = dir.path().join(format!("altered-{table}-{column}.db"));
        std::fs::copy(&original, &copy).unwrap();
        let conn = rusqlite::Connection::open(&copy).unwrap();
        let old: rusqlite::types::Value = conn
            .query_row(&format!("SELECT {column} FROM {table} WHERE {key}"), [], |row| {
                row.get(0)
            })
            .unwrap();
        conn.execute(
            &format!("UPDATE {table} SET {column} = ?1 WHERE {key}"),
            [altered(&old)],
        )
        .unwrap();
        drop(conn);
        let report = verify_file(&copy);
        assert!(!report.is_clean(), "{table}.{column} altered but verify is clean");
        let expected_wallet = if table == "components" { "" } else { "w1" };
        assert!(
            report
                .divergences
                .iter()
                .any(|divergence| divergence.wallet == expected_wallet),
            "{table}.{column}: {:?}",
            report.divergences
        );
    }
}

#[test]
fn resubmitting_an_event_returns_its_recorded_outcome_and_a_changed_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    let file = scenario_files()
        .into_iter()
        .find(|file| file.ends_with("sessions_refund_after_cooling_off.json"))
        .unwrap();
    let raws = Scenario::load(&file).unwrap().raw_events().unwrap();
    for raw in &raws {
        ledger.submit(raw).unwrap();
    }
    let again = ledger.submit(&raws[2]).unwrap();
    assert!(again.replayed);
    assert_eq!(again.entry.seq, 3);
    // The time is the platform's, not part of the event: the same event sent later is the
    // same event, and gets its recorded outcome and time.
    let mut later = raws[2].clone();
    later.at = Some("2026-01-12T10:06:00Z".into());
    let replayed = ledger.submit(&later).unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.entry.at, again.entry.at);
    let mut changed = raws[2].clone();
    changed.signature = None;
    let error = ledger.submit(&changed).unwrap_err();
    assert!(
        matches!(&error, Error::Refused(refusal) if refusal.code == RefusalCode::EventIdReused),
        "{error}"
    );
    assert_eq!(ledger.entries("w1").unwrap().len(), raws.len());
    assert!(ledger.verify().unwrap().is_clean());
}

/// A component like `component` with a custom section appended: the same behaviour under
/// a different code hash, as a new release of the rules would have.
fn another_release(component: &[u8]) -> Vec<u8> {
    let name = b"release";
    let mut content = vec![name.len() as u8];
    content.extend_from_slice(name);
    content.extend_from_slice(b"2");
    let mut bytes = component.to_vec();
    bytes.push(0); // a custom section
    bytes.push(content.len() as u8);
    bytes.extend(content);
    bytes
}

#[test]
fn each_wallet_runs_forever_the_code_it_was_opened_with() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    let first = prepaid_host::outcome::sha256_hex(&prepaid_tests::component_bytes());
    let file = scenario_files()
        .into_iter()
        .find(|file| file.ends_with("sessions_refund_after_cooling_off.json"))
        .unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    let events = |wallet: &str| {
        let renamed = text.replace(r#""wallet": "w1""#, &format!(r#""wallet": "{wallet}""#));
        Scenario::parse(&renamed).unwrap().raw_events().unwrap()
    };
    let (old, new) = (events("old"), events("new"));
    assert!(ledger.submit(&old[0]).unwrap().verdict.ok);
    let second = ledger
        .install(&another_release(&prepaid_tests::component_bytes()))
        .unwrap();
    assert_ne!(first, second);
    for raw in new.iter().chain(&old[1..]) {
        assert!(ledger.submit(raw).unwrap().verdict.ok, "{}", raw.id);
    }
    for (wallet, code_hash) in [("old", &first), ("new", &second)] {
        assert_eq!(&ledger.head(wallet).unwrap().unwrap().code_hash, code_hash);
        assert!(ledger
            .entries(wallet)
            .unwrap()
            .iter()
            .all(|entry| &entry.code_hash == code_hash));
    }
    let report = ledger.verify().unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
    assert_eq!(report.components.len(), 2);
    assert_eq!(report.entries, 8);
}

#[test]
fn a_journal_from_before_outbox_claims_gains_them_and_keeps_its_effects() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    for raw in &prepaid_host::testkit::workload::standard_mix(1).unwrap() {
        ledger.submit(raw).unwrap();
    }
    drop(ledger);
    let path = dir.path().join("journal.db");
    let before = SqliteStore::open(&path).unwrap().pending_effects(usize::MAX).unwrap();
    assert!(!before.is_empty());
    // The earlier outbox had no claim columns, and the journal recorded no schema version.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "ALTER TABLE outbox DROP COLUMN claimed_by; ALTER TABLE outbox DROP COLUMN claimed_until; \
         PRAGMA user_version = 0;",
    )
    .unwrap();
    drop(conn);
    let mut journal = SqliteStore::open(&path).unwrap();
    let claimed = journal
        .claim_effects("adapter", usize::MAX, std::time::Duration::from_secs(60))
        .unwrap();
    assert_eq!(claimed, before);
}

/// Acknowledgements made before they carried the rail's reference: a bundle of that age
/// verifies as it always did; the journal, opened, gains the column, keeps its chain, and
/// chains acknowledgements with references after the old ones.
#[test]
fn a_journal_from_before_ack_references_verifies_and_gains_them() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    for raw in &prepaid_host::testkit::workload::standard_mix(1).unwrap() {
        ledger.submit(raw).unwrap();
    }
    let effects = ledger.pending_effects(usize::MAX).unwrap();
    let (old, new) = effects.split_at(effects.len() / 2);
    assert!(!old.is_empty() && !new.is_empty());
    let acks: Vec<Ack> = old.iter().map(|effect| Ack::of(effect.effect_id.clone())).collect();
    ledger.ack_effects(&acks, None).unwrap();
    drop(ledger);
    let path = dir.path().join("journal.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("ALTER TABLE acks DROP COLUMN reference; PRAGMA user_version = 0;")
        .unwrap();
    drop(conn);

    let bundle = SqliteStore::open_bundle(&path).unwrap();
    let report = verify(&bundle).unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
    drop(bundle);

    let ledger = ledger_in(dir.path());
    ledger.ack_effects(&paid_under_references(new), None).unwrap();
    let report = ledger.verify().unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
    assert_ack_references(&SqliteStore::open_read_only(&path).unwrap(), &effects, new);
}

/// An operator with the database swaps the code stored under a wallet's code hash for other
/// code (here a guest that panics): the ledger refuses to run bytes that do not hash to the
/// name they are stored under, the event fails as a fault, and nothing is recorded.
#[test]
fn code_swapped_under_a_wallets_code_hash_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_in(dir.path());
    assert!(ledger.submit(&sessions_open()).unwrap().verdict.ok);
    let code_hash = ledger.head("w1").unwrap().unwrap().code_hash;
    drop(ledger);
    rusqlite::Connection::open(dir.path().join("journal.db"))
        .unwrap()
        .execute(
            "UPDATE components SET bytes = ?1 WHERE code_hash = ?2",
            rusqlite::params![guest_bytes("panic"), code_hash],
        )
        .unwrap();

    // A fresh process: nothing compiled yet, and no component installed over the swap.
    let ledger = Ledger::open(sqlite_store(dir.path()), prepaid_tests::engine())
        .unwrap()
        .with_clock(Clock::Scripted);
    let tick = Envelope {
        wallet: "w1".into(),
        id: "tick-1".into(),
        at: Some("2026-01-06T09:00:00Z".into()),
        event: serde_json::json!({"type": "tick"}),
        signature: None,
    };
    let error = ledger.submit(&tick).unwrap_err();
    assert!(
        matches!(&error, Error::Fault(fault) if format!("{fault:#}").contains(&format!("stored as {code_hash}"))),
        "{error}"
    );
    assert_eq!(ledger.entries("w1").unwrap().len(), 1, "nothing was recorded");
    assert!(
        ledger.view("w1").is_err(),
        "the swapped code does not read the state either"
    );
}

/// Replay for ever: a journal recorded by an earlier build (the demo, two payments
/// acknowledged, every wallet in a checkpoint the development platform key signed) must
/// verify clean in this one, against its checkpoint. A new engine that moves fuel or
/// outcomes fails here first, and the report says whether only fuel moved. Never
/// regenerate the fixture to make this pass: add a new one beside it.
#[test]
fn a_journal_recorded_by_an_earlier_build_verifies_clean_against_its_checkpoint() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    // The fixture of this release; a later one whose journal format changes adds its own.
    let (bundle, checkpoint) = ("journal-0.2.0.bundle", "journal-0.2.0.checkpoint");
    let store = SqliteStore::open_bundle(&fixtures.join(bundle)).unwrap();
    let text = std::fs::read_to_string(fixtures.join(checkpoint)).unwrap();
    let key = prepaid_host::keys::dev_key("platform").verifying_key();
    let checkpoint = prepaid_host::signed::Checkpoint::read(&text, &key).unwrap();
    let checks = prepaid_host::verify::Checks {
        checkpoint: checkpoint.leaves,
        ..Default::default()
    };
    let contracts = prepaid_host::Contracts::new(prepaid_tests::engine());
    let report = prepaid_host::verify::verify_with_progress(&store, &contracts, &checks, |_, _| {}).unwrap();
    let divergences: Vec<String> = report.divergences.iter().map(ToString::to_string).collect();
    assert!(
        report.is_clean(),
        "{bundle} no longer verifies:\n{}",
        divergences.join("\n")
    );
    assert_eq!((report.wallets, report.entries), (4, 16), "{bundle}");
}
