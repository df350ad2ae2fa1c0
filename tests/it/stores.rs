//! The store interface, on SQLite and on a real PostgreSQL server: both record the same
//! journal for the same events; writers racing on one wallet (as separate processes would,
//! each with its own connections) lose nothing and duplicate nothing; payment adapters
//! claiming the outbox at once never get the same effect.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use prepaid_host::store::postgres::{PostgresConfig, PostgresStore};
use prepaid_host::store::{Ack, Acknowledged, OutboxEffect, Store};
use prepaid_host::testkit::workload::standard_mix;
use prepaid_host::{Claim, Error, Ledger, StoreConfig};
use prepaid_tests::{
    assert_ack_references, fresh_postgres, ledger, paid_under_references, postgres_store, scenario_events,
    sqlite_store, verify,
};

#[test]
fn postgres_records_exactly_the_journal_sqlite_records() {
    let events = standard_mix(12).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sqlite_config, postgres_config) = (sqlite_store(dir.path()), postgres_store());
    let (sqlite, postgres) = (sqlite_config.connect().unwrap(), postgres_config.connect().unwrap());
    let (on_sqlite, on_postgres) = (ledger(sqlite_config), ledger(postgres_config));
    for raw in &events {
        let (a, b) = (on_sqlite.submit(raw).unwrap(), on_postgres.submit(raw).unwrap());
        assert!(a.verdict.ok, "{}: {:?}", raw.id, a.verdict);
        assert_eq!(a, b, "event {}", raw.id);
    }
    assert_eq!(sqlite.wallets().unwrap(), postgres.wallets().unwrap());
    for wallet in sqlite.wallets().unwrap() {
        assert_eq!(sqlite.entries(&wallet).unwrap(), postgres.entries(&wallet).unwrap());
        assert_eq!(sqlite.wallet(&wallet).unwrap(), postgres.wallet(&wallet).unwrap());
    }
    assert_eq!(sqlite.components().unwrap(), postgres.components().unwrap());
    assert_eq!(
        sqlite.pending_effects(usize::MAX).unwrap(),
        postgres.pending_effects(usize::MAX).unwrap()
    );
    // The rail pays every effect, the adapter giving the rail's reference for every other
    // one: each store chains the same acknowledgements (but for their times, the host's
    // clock), checkpoints the same leaves, and verifies clean.
    let paid: Vec<Ack> = sqlite
        .pending_effects(usize::MAX)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(n, effect)| match n % 2 {
            0 => Ack::paid(effect.effect_id, format!("RAIL-{n}")),
            _ => Ack::of(effect.effect_id),
        })
        .collect();
    assert!(!paid.is_empty());
    on_sqlite.ack_effects(&paid, None).unwrap();
    on_postgres.ack_effects(&paid, None).unwrap();
    for wallet in sqlite.wallets().unwrap() {
        let untimed = |store: &dyn prepaid_host::store::Store| -> Vec<(u64, String, String, Option<String>)> {
            let records = store.acks(&wallet).unwrap();
            records
                .into_iter()
                .map(|record| (record.n, record.effect_id, record.effect_hash, record.reference))
                .collect()
        };
        assert_eq!(untimed(sqlite.as_ref()), untimed(postgres.as_ref()), "{wallet}");
        let (a, b) = (sqlite.outbox(&wallet).unwrap(), postgres.outbox(&wallet).unwrap());
        assert_eq!(a, b, "{wallet}");
        assert!(a.iter().all(|row| row.acked), "{wallet}");
    }
    let key = prepaid_host::keys::dev_key("platform");
    let checkpoint = on_postgres.checkpoint(&key).unwrap();
    assert_eq!(checkpoint.head.size as usize, sqlite.wallets().unwrap().len());
    for store in [sqlite.as_ref(), postgres.as_ref()] {
        let report = verify(store).unwrap();
        assert!(report.is_clean(), "{:?}", report.divergences);
        assert_eq!(report.entries, events.len());
    }
}

/// The supervised-share scenario, whose later wallets' releases pay the claim an earlier
/// one's refund recorded: both stores record the same claims, pay them from the same
/// releases, show the adapter the same payments and count the same figures.
#[test]
fn postgres_collects_claims_exactly_as_sqlite() {
    let events = scenario_events(include_str!(
        "../scenarios/supervised_share_released_in_proportion_after_cooling_off.json"
    ));
    let dir = tempfile::tempdir().unwrap();
    let (sqlite_config, postgres_config) = (sqlite_store(dir.path()), postgres_store());
    let (sqlite, postgres) = (sqlite_config.connect().unwrap(), postgres_config.connect().unwrap());
    let (on_sqlite, on_postgres) = (ledger(sqlite_config), ledger(postgres_config));
    for raw in &events {
        // The scenario ends with an open both refuse.
        let (a, b) = (on_sqlite.submit(raw), on_postgres.submit(raw));
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "event {}", raw.id);
    }
    let claims = on_sqlite.claims_of("sz6").unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(
        (claims[0].amount.as_str(), claims[0].paid.as_str()),
        ("1416.00", "1416.00")
    );
    for wallet in sqlite.wallets().unwrap() {
        assert_eq!(
            on_sqlite.claims_of(&wallet).unwrap(),
            on_postgres.claims_of(&wallet).unwrap(),
            "{wallet}"
        );
    }
    assert_eq!(on_sqlite.open_claims().unwrap(), on_postgres.open_claims().unwrap());
    assert_eq!(
        on_sqlite.open_claims().unwrap().len(),
        1,
        "the last claim, sz8's, waits for the school's next release"
    );
    let effects = sqlite.pending_effects(usize::MAX).unwrap();
    let withheld = on_sqlite.withheld(&effects).unwrap();
    assert!(!withheld.is_empty());
    assert_eq!(withheld, on_postgres.withheld(&effects).unwrap());
    assert_eq!(sqlite.day_rows(None).unwrap(), postgres.day_rows(None).unwrap());
}

/// An open and eight requests of one unit on wallet `race`, all at the same time: every
/// request is accepted whatever their order, so a lost or doubled one shows in the count.
fn race_events() -> Vec<prepaid_host::envelope::Envelope> {
    let requests: Vec<String> = (1..=8)
        .map(|n| {
            format!(
                r#"{{"at": "2026-01-06T09:00:00Z", "wallet": "race", "by": "gym", "id": "r{n}",
                    "event": {{"type": "request", "request": "r{n}", "units": 1}}}}"#
            )
        })
        .collect();
    scenario_events(&format!(
        r#"{{"name": "race", "steps": [
            {{"at": "2026-01-05T09:00:00Z", "wallet": "race", "by": "alice",
              "event": {{"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                        "product": {{"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"}},
                        "policy": {{"cooling_off_days": 7, "deemed_confirm_days": 0}}}}}},
            {}
        ]}}"#,
        requests.join(",")
    ))
}

/// Two ledgers with their own connections (two processes, as far as the store can tell),
/// two threads each, all submitting every request to one wallet in different orders.
fn writers_race(first: Ledger, second: Ledger, store: &dyn Store) {
    let events = race_events();
    first.submit(&events[0]).unwrap();
    let requests = Arc::new(events[1..].to_vec());
    let ledgers = [Arc::new(first), Arc::new(second)];
    let ledgers_after = ledgers.clone();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let (ledger, requests) = (ledgers[thread % 2].clone(), requests.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                for index in 0..requests.len() {
                    let raw = &requests[(index * (thread + 1) + thread) % requests.len()];
                    let submitted = ledger.submit(raw).unwrap();
                    assert!(submitted.verdict.ok, "{}: {:?}", raw.id, submitted.verdict);
                    seen.push((raw.id.clone(), submitted.entry.seq, submitted.entry.entry_hash));
                }
                seen
            })
        })
        .collect();
    let seen: Vec<_> = threads.into_iter().flat_map(|thread| thread.join().unwrap()).collect();
    // Not asserted (it depends on timing), but shown: how often a writer lost the race.
    let conflicts: u64 = ledgers_after.iter().map(|ledger| ledger.conflicts()).sum();
    eprintln!("writers re-ran {conflicts} times after losing the wallet's race");

    let entries = store.entries("race").unwrap();
    assert_eq!(entries.len(), 9, "the open and each request exactly once");
    assert_eq!(
        entries.iter().map(|entry| entry.seq).collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    let ids: BTreeSet<&str> = entries[1..].iter().map(|entry| entry.event_id.as_str()).collect();
    assert_eq!(ids.len(), 8);
    // Whoever submitted an event, and however often, was told the one recorded entry.
    for (id, seq, hash) in &seen {
        let entry = entries.iter().find(|entry| &entry.event_id == id).unwrap();
        assert_eq!((seq, hash), (&entry.seq, &entry.entry_hash), "{id}");
    }
    assert_eq!(store.wallet("race").unwrap().unwrap().seq, 9);
    let report = verify(store).unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
}

/// Two ledgers on the same store, as two processes would be.
fn race_on(config: StoreConfig) {
    let store = config.connect().unwrap();
    writers_race(ledger(config.clone()), ledger(config), store.as_ref());
}

#[test]
fn writers_racing_on_one_wallet_over_postgres_lose_and_duplicate_nothing() {
    race_on(postgres_store());
}

#[test]
fn writers_racing_on_one_wallet_over_sqlite_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    race_on(sqlite_store(dir.path()));
}

/// An adapter claims two effects and dies; once its lease lapses, four adapters, each with
/// its own connection, claim three effects at a time until none is left: together they get
/// every effect once, the dead adapter's included. Then the fence (the attack of "Nobody but
/// the consumer", 7): the dead adapter comes back and acknowledges what it held, with its
/// stale claim; that is refused and acknowledges nothing, and only each effect's current
/// holder can acknowledge it. An acknowledgement records the rail's reference, and no
/// second one can replace it.
fn adapters_claim(config: StoreConfig) {
    let store = config.connect().unwrap();
    let ledger = ledger(config);
    for raw in &standard_mix(8).unwrap() {
        assert!(ledger.submit(raw).unwrap().verdict.ok);
    }
    let all = ledger.pending_effects(usize::MAX).unwrap();
    assert!(all.len() >= 16, "the mix releases and refunds: {}", all.len());
    let crashed = ledger.claim_effects(2, Duration::from_secs(1)).unwrap();
    assert_eq!(crashed.effects.len(), 2);
    std::thread::sleep(Duration::from_millis(2100));

    let ledger = Arc::new(ledger);
    let adapters: Vec<_> = (0..4)
        .map(|_| {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                let mut claims = Vec::new();
                loop {
                    let claim = ledger.claim_effects(3, Duration::from_secs(60)).unwrap();
                    if claim.effects.is_empty() {
                        return claims;
                    }
                    claims.push(claim);
                }
            })
        })
        .collect();
    let claims: Vec<Claim> = adapters
        .into_iter()
        .flat_map(|adapter| adapter.join().unwrap())
        .collect();
    let mut claimed: Vec<OutboxEffect> = claims.iter().flat_map(|claim| claim.effects.clone()).collect();
    let ids: BTreeSet<String> = claimed.iter().map(|effect| effect.effect_id.clone()).collect();
    assert_eq!(ids.len(), claimed.len(), "an effect was claimed twice");
    claimed.sort_by(|a, b| a.effect_id.cmp(&b.effect_id));
    let mut expected = all.clone();
    expected.sort_by(|a, b| a.effect_id.cmp(&b.effect_id));
    assert_eq!(claimed, expected);
    assert!(ledger
        .claim_effects(10, Duration::from_secs(60))
        .unwrap()
        .effects
        .is_empty());

    let ids_of = |effects: &[OutboxEffect]| {
        effects
            .iter()
            .map(|effect| Ack::of(effect.effect_id.clone()))
            .collect::<Vec<_>>()
    };
    // The dead adapter's claim is stale: another adapter holds its effects now.
    let stale = ledger.ack_effects(&ids_of(&crashed.effects), Some(&crashed.token));
    assert!(matches!(stale, Err(Error::StaleClaim(_))), "{stale:?}");
    // Nor can anyone acknowledge an effect under a live claim without its token.
    let unfenced = ledger.ack_effects(&ids_of(&claims[0].effects), None);
    assert!(matches!(unfenced, Err(Error::StaleClaim(_))), "{unfenced:?}");
    assert_eq!(
        ledger.pending_effects(usize::MAX).unwrap().len(),
        all.len(),
        "nothing was acknowledged"
    );

    // Each holder acknowledges its own; again is harmless; an unknown id acknowledges nothing.
    let (done, open): (Vec<&Claim>, Vec<&Claim>) = claims.iter().partition(|claim| claim.effects[0].seq % 2 == 0);
    assert!(!done.is_empty() && !open.is_empty(), "the claims split both ways");
    for claim in &done {
        let n = claim.effects.len();
        assert_eq!(
            ledger.ack_effects(&ids_of(&claim.effects), Some(&claim.token)).unwrap(),
            Acknowledged { newly: n, already: 0 }
        );
        assert_eq!(
            ledger.ack_effects(&ids_of(&claim.effects), Some(&claim.token)).unwrap(),
            Acknowledged { newly: 0, already: n }
        );
    }
    let mut unknown = ids_of(&open[0].effects);
    unknown.push(Ack::of("nowhere:1:0"));
    assert!(matches!(
        ledger.ack_effects(&unknown, Some(&open[0].token)),
        Err(Error::UnknownEffect(_))
    ));

    // The rail's reference is recorded with the acknowledgement, and holds it: the same
    // reference again, or none, is harmless, another (a second payment?) is refused, and
    // a malformed one, or one effect listed under two, acknowledges nothing.
    let first = &open[0].effects[0].effect_id;
    let token = Some(open[0].token.as_str());
    let pending = ledger.pending_effects(usize::MAX).unwrap().len();
    for refused in [
        vec![Ack::paid(first.clone(), "RAIL 1")],
        vec![Ack::paid(first.clone(), "")],
        vec![Ack::paid(first.clone(), "R".repeat(65))],
        vec![Ack::paid(first.clone(), "RAIL-1"), Ack::paid(first.clone(), "RAIL-2")],
    ] {
        let answer = ledger.ack_effects(&refused, token);
        assert!(matches!(answer, Err(Error::BadReference(_))), "{refused:?}: {answer:?}");
    }
    assert_eq!(ledger.pending_effects(usize::MAX).unwrap().len(), pending);
    let listed_twice = [Ack::of(first.clone()), Ack::paid(first.clone(), "RAIL-1")];
    assert_eq!(
        ledger.ack_effects(&listed_twice, token).unwrap(),
        Acknowledged { newly: 1, already: 0 }
    );
    let wallet = &open[0].effects[0].wallet;
    let record = || {
        store
            .acks(wallet)
            .unwrap()
            .into_iter()
            .find(|record| record.effect_id == *first)
            .unwrap()
    };
    assert_eq!(record().reference.as_deref(), Some("RAIL-1"));
    for again in [Ack::paid(first.clone(), "RAIL-1"), Ack::of(first.clone())] {
        assert_eq!(
            ledger.ack_effects(&[again], token).unwrap(),
            Acknowledged { newly: 0, already: 1 }
        );
    }
    let twice = ledger.ack_effects(&[Ack::paid(first.clone(), "RAIL-2")], token);
    assert!(
        matches!(&twice, Err(Error::ReferenceDiffers { recorded: Some(recorded), given, .. })
            if recorded == "RAIL-1" && given == "RAIL-2"),
        "{twice:?}"
    );
    assert_eq!(record().reference.as_deref(), Some("RAIL-1"));
    let mut left: Vec<OutboxEffect> = open.iter().flat_map(|claim| claim.effects.clone()).collect();
    left.retain(|effect| effect.effect_id != *first);
    left.sort_by(|a, b| (&a.wallet, a.seq, &a.effect_id).cmp(&(&b.wallet, b.seq, &b.effect_id)));
    assert_eq!(ledger.pending_effects(usize::MAX).unwrap(), left);
}

#[test]
fn adapters_claiming_the_postgres_outbox_at_once_never_share_an_effect() {
    adapters_claim(postgres_store());
}

#[test]
fn adapters_claiming_the_sqlite_outbox_at_once_never_share_an_effect() {
    let dir = tempfile::tempdir().unwrap();
    adapters_claim(sqlite_store(dir.path()));
}

/// The test server's TLS material (`cargo xtask test` makes it): `ca.crt`, the authority
/// that signed the server's certificate, and `server.crt`, which is no authority.
fn test_tls() -> std::path::PathBuf {
    std::env::var_os("PREPAID_TEST_POSTGRES_TLS")
        .expect("PREPAID_TEST_POSTGRES_TLS is not set: run the tests with `cargo xtask test`")
        .into()
}

#[test]
fn postgres_over_tls_trusts_only_the_given_authority() {
    let (tls, url) = (test_tls(), fresh_postgres());
    let trusted = PostgresConfig::new(url.clone()).with_tls_ca(tls.join("ca.crt"));
    assert!(PostgresStore::connect(&trusted).unwrap().is_encrypted().unwrap());
    // A plain connection to the same server is not, so the check above means something.
    let plain = PostgresStore::connect(&PostgresConfig::new(url.clone())).unwrap();
    assert!(!plain.is_encrypted().unwrap());

    // The ledger works over it.
    let events = standard_mix(2).unwrap();
    let ledger = ledger(StoreConfig::Postgres(trusted));
    for raw in &events {
        assert!(ledger.submit(raw).unwrap().verdict.ok, "{}", raw.id);
    }
    assert_eq!(plain.entries("bench-1").unwrap().len(), events.len() / 2);

    // The URL cannot turn TLS off once an authority is given.
    let disabled = PostgresConfig::new(format!("{url}?sslmode=disable")).with_tls_ca(tls.join("ca.crt"));
    assert!(PostgresStore::connect(&disabled).unwrap().is_encrypted().unwrap());

    // A server whose certificate the given authorities did not sign is refused: someone
    // in the middle with a certificate of their own gets nothing.
    let untrusted = PostgresConfig::new(url.clone()).with_tls_ca(tls.join("server.crt"));
    let Err(error) = PostgresStore::connect(&untrusted) else {
        panic!("a server signed by an untrusted authority was accepted");
    };
    assert!(format!("{error:#}").contains("UnknownIssuer"), "{error:#}");

    // So is the right server under a name its certificate does not carry.
    let (_, address) = url.split_once('@').unwrap();
    let (port, database) = address.trim_start_matches("127.0.0.1:").split_once('/').unwrap();
    let misnamed = PostgresConfig::new(format!(
        "host=wrong.example hostaddr=127.0.0.1 port={port} user=postgres dbname={database}"
    ))
    .with_tls_ca(tls.join("ca.crt"));
    let Err(error) = PostgresStore::connect(&misnamed) else {
        panic!("a certificate for another name was accepted");
    };
    assert!(format!("{error:#}").contains("not valid for name"), "{error:#}");
}

/// How many connections to `url`'s database other than the one asking, at most, while
/// `load` runs.
fn most_connections_during(url: &str, load: impl FnOnce() + Send) -> i64 {
    let mut monitor = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let row = monitor
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                        &[],
                    )
                    .unwrap();
                most = most.max(row.get::<_, i64>(0));
                std::thread::sleep(Duration::from_millis(5));
            }
            most
        });
        load();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        watcher.join().unwrap()
    })
}

/// The attack of "Nobody but the consumer" (7): callers in numbers (a server's blocking
/// pool runs hundreds of threads) made a process open a connection each, without bound,
/// until the database refused everyone. A ledger opens at most its maximum; callers beyond
/// it wait their turn. The same load on a ledger bound higher opens more, so the bound is
/// what holds the count.
#[test]
fn a_ledger_opens_no_more_postgres_connections_than_its_maximum() {
    let events = standard_mix(24).unwrap();
    let run = |max: usize| {
        let url = fresh_postgres();
        let ledger = ledger(StoreConfig::Postgres(PostgresConfig::new(url.clone()))).with_max_connections(max);
        assert_eq!(ledger.max_connections(), max);
        let most = most_connections_during(&url, || {
            std::thread::scope(|scope| {
                for wallet in events.chunks(events.len() / 12) {
                    let ledger = &ledger;
                    scope.spawn(move || {
                        for event in wallet {
                            assert!(ledger.submit(event).unwrap().verdict.ok);
                            ledger.view(&event.wallet).unwrap();
                        }
                    });
                }
            });
        });
        assert!(ledger.verify().unwrap().is_clean());
        most
    };
    let bounded = run(2);
    assert!(bounded <= 2, "{bounded} connections with a maximum of 2");
    let wider = run(12);
    assert!(wider > 2, "the same load with a maximum of 12 opened only {wider}");
}

/// A PostgreSQL database from before acknowledgements carried the rail's reference: its
/// acknowledgements verify as they did, and the next connection adds the column, after
/// which acknowledgements carry references and the chain still verifies.
#[test]
fn a_postgres_database_from_before_ack_references_gains_them() {
    let url = fresh_postgres();
    let config = StoreConfig::Postgres(PostgresConfig::new(url.clone()));
    let first = ledger(config.clone());
    for raw in &standard_mix(1).unwrap() {
        first.submit(raw).unwrap();
    }
    let effects = first.pending_effects(usize::MAX).unwrap();
    let (old, new) = effects.split_at(effects.len() / 2);
    let acks: Vec<Ack> = old.iter().map(|effect| Ack::of(effect.effect_id.clone())).collect();
    first.ack_effects(&acks, None).unwrap();
    drop(first);
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    // A database of that age recorded no schema version either.
    admin
        .batch_execute("ALTER TABLE acks DROP COLUMN reference; DROP TABLE schema_version")
        .unwrap();

    let second = ledger(config.clone());
    second.ack_effects(&paid_under_references(new), None).unwrap();
    let store = config.connect().unwrap();
    let report = verify(store.as_ref()).unwrap();
    assert!(report.is_clean(), "{:?}", report.divergences);
    assert_ack_references(store.as_ref(), &effects, new);
}

/// Three wallets: w1 with a request the consumer disputes, w2 disputed whole by the
/// regulator, w3 with a request only pending.
fn disputed_wallets() -> Vec<prepaid_host::envelope::Envelope> {
    let dispute = |requests: &str| {
        format!(
            r#"{{"type": "dispute", {requests}"reason": "not_delivered", "evidence": "{}"}}"#,
            prepaid_tests::EVIDENCE
        )
    };
    let mut steps = Vec::new();
    for wallet in ["w1", "w2", "w3"] {
        steps.push(format!(
            r#"{{"at": "2026-01-05T09:00:00Z", "wallet": "{wallet}", "by": "alice",
                "event": {{"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                          "product": {{"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"}},
                          "policy": {{"cooling_off_days": 7, "deemed_confirm_days": 0}}}}}}"#
        ));
        steps.push(format!(
            r#"{{"at": "2026-01-06T09:00:00Z", "wallet": "{wallet}", "by": "gym",
                "event": {{"type": "request", "request": "r1", "units": 2}}}}"#
        ));
    }
    steps.push(format!(
        r#"{{"at": "2026-01-07T09:00:00Z", "wallet": "w1", "by": "alice", "event": {}}}"#,
        dispute(r#""requests": ["r1"], "#)
    ));
    steps.push(format!(
        r#"{{"at": "2026-01-07T09:00:00Z", "wallet": "w2", "by": "city", "event": {}}}"#,
        dispute("")
    ));
    scenario_events(&format!(r#"{{"name": "disputes", "steps": [{}]}}"#, steps.join(",")))
}

/// The regulator's queue on both stores: the same rows for the same events, each wallet's
/// open disputes; a ruling takes its row out; a store from before the queue fills it from
/// its wallets' states as it migrates; and verify names a row deleted, altered or planted.
#[test]
fn the_disputes_queue_is_the_wallets_disputes_on_both_stores() {
    let dir = tempfile::tempdir().unwrap();
    let (sqlite_config, postgres_config) = (sqlite_store(dir.path()), postgres_store());
    let (on_sqlite, on_postgres) = (ledger(sqlite_config.clone()), ledger(postgres_config.clone()));
    for raw in &disputed_wallets() {
        let (a, b) = (on_sqlite.submit(raw).unwrap(), on_postgres.submit(raw).unwrap());
        assert!(a.verdict.ok && b.verdict.ok, "{:?}", a.verdict);
    }
    let queue = on_sqlite.open_disputes().unwrap();
    assert_eq!(queue, on_postgres.open_disputes().unwrap());
    let listed: Vec<(&str, Option<&str>, &str, Option<i64>)> = queue
        .iter()
        .map(|dispute| {
            (
                dispute.wallet.as_str(),
                dispute.request.as_deref(),
                dispute.by.as_str(),
                dispute.ruling_due,
            )
        })
        .collect();
    // Raised 2026-01-07T09:00:00Z, each due 30 days later.
    let due = Some(1_767_776_400 + 30 * 86_400);
    assert_eq!(
        listed,
        [("w1", Some("r1"), "consumer", due), ("w2", None, "regulator", due)]
    );
    assert_eq!(queue[1].amount, "1000.00", "the whole wallet's frozen");
    let ruling = scenario_events(
        r#"{"name": "ruling", "steps": [
            {"at": "2026-01-08T09:00:00Z", "wallet": "w1", "id": "ruling", "by": "city",
             "event": {"type": "resolve", "outcome": "release", "requests": ["r1"], "reason": "delivered"}}]}"#,
    );
    for ledger in [&on_sqlite, &on_postgres] {
        assert!(ledger.submit(&ruling[0]).unwrap().verdict.ok);
        assert_eq!(ledger.open_disputes().unwrap().len(), 1, "w2's is left");
        assert!(ledger.verify().unwrap().is_clean());
    }
    drop(on_sqlite);

    // A journal from before the queue: the step fills it from the wallets' states.
    let journal = dir.path().join("journal.db");
    rusqlite::Connection::open(&journal)
        .unwrap()
        .execute_batch("DROP TABLE disputes; PRAGMA user_version = 10")
        .unwrap();
    let migrated = ledger(sqlite_config.clone());
    assert_eq!(migrated.open_disputes().unwrap(), on_postgres.open_disputes().unwrap());
    drop(migrated);

    // An operator's hand on the queue: verify names the wallet.
    for (edit, wallet) in [
        ("DELETE FROM disputes WHERE wallet = 'w2'", "w2"),
        ("UPDATE disputes SET reason = 'unanswered', by_party = 'merchant'", "w2"),
        (
            "INSERT INTO disputes VALUES ('w3', 'r1', 'x', 'y', 'consumer', 'other', NULL, 0, NULL, '1.00')",
            "w3",
        ),
        (
            "INSERT INTO disputes VALUES ('ghost', '', 'x', 'y', 'consumer', 'other', NULL, 0, NULL, '1.00')",
            "ghost",
        ),
    ] {
        let copy = dir.path().join("edited.db");
        std::fs::copy(&journal, &copy).unwrap();
        rusqlite::Connection::open(&copy).unwrap().execute(edit, []).unwrap();
        let edited = ledger(StoreConfig::Sqlite(copy.clone()));
        let report = edited.verify().unwrap();
        assert!(
            report
                .divergences
                .iter()
                .any(|divergence| divergence.wallet == wallet && divergence.field == "disputes"),
            "{edit}: {:#?}",
            report.divergences
        );
        drop(edited);
        std::fs::remove_file(&copy).unwrap();
    }
}
