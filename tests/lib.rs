//! Helpers for the end-to-end tests: the real contract component, the scenario files and
//! fresh ledgers over temporary journals.

use std::path::{Path, PathBuf};

use prepaid_host::store::postgres::PostgresConfig;
use prepaid_host::store::Store;
use prepaid_host::testkit::scenario::Scenario;
use prepaid_host::Contracts;
use prepaid_host::{component_path, Clock, ContractEngine, Envelope, Funding, Ledger, Report, StoreConfig};

/// The component's bytes. Panics with the command that builds it when it is missing.
pub fn component_bytes() -> Vec<u8> {
    let path = component_path();
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read the contract component {} ({error}); run `cargo xtask test`, which builds it",
            path.display()
        )
    })
}

/// The test component `name` (`panic`, `spin`, `memory`, `recursion`, ..., and
/// `paid-rate-sessions`, the contract with one rule changed) that `cargo xtask guests` builds into `PREPAID_GUESTS` (default: target/guests).
pub fn guest_bytes(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("PREPAID_GUESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests"));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read the test guest {} ({error}); run `cargo xtask test`, which builds it",
            path.display()
        )
    })
}

/// Every scenario file under tests/scenarios/, sorted.
pub fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// The tests' engine: compiled components are kept in the artifact cache that
/// `PREPAID_CACHE` names (`cargo xtask test` points it into the target directory, for the
/// tests and the `prepaid` processes they start alike), else in target/artifact-cache, so
/// the component is compiled once per code hash for the whole suite rather than once per
/// ledger.
pub fn engine() -> ContractEngine {
    let dir = std::env::var_os("PREPAID_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/artifact-cache"));
    ContractEngine::new()
        .and_then(|engine| engine.with_cache(&dir))
        .unwrap_or_else(|error| panic!("an engine with the artifact cache {}: {error:#}", dir.display()))
}

/// A ledger over a new journal in `dir`, with the component under test installed.
pub fn ledger_in(dir: &Path) -> Ledger {
    ledger(sqlite_store(dir))
}

/// A ledger over `store` on a scripted clock (events carry their times, as in scenario
/// files) whose opens say whether they are paid, with the component under test installed.
pub fn ledger(store: StoreConfig) -> Ledger {
    let ledger = Ledger::open(store, engine())
        .expect("opening the store")
        .with_clock(Clock::Scripted)
        .with_funding(Funding::Declared);
    ledger.install(&component_bytes()).expect("installing the component");
    ledger
}

/// Replays every wallet of `store` on a fresh engine, as an auditor's `prepaid verify` does.
pub fn verify(store: &dyn Store) -> prepaid_host::Result<Report> {
    prepaid_host::verify::verify(store, &Contracts::new(engine()))
}

/// The signed `open` of wallet `w1`: alice buys ten sessions from gym for 1000.00 (list
/// price 120.00), approved by city, at 2026-01-05T09:00:00Z.
pub fn sessions_open() -> Envelope {
    let scenario = Scenario::parse(
        r#"{"name": "open", "steps": [
            {"at": "2026-01-05T09:00:00Z", "wallet": "w1", "by": "alice",
             "event": {"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"},
                       "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0}}}
        ]}"#,
    )
    .expect("a valid scenario");
    scenario.raw_events().expect("signable events").remove(0)
}

/// A fresh, empty database on the test PostgreSQL server, as a URL. The server's admin URL
/// is `PREPAID_TEST_POSTGRES`, which `cargo xtask test` sets after starting one; without it
/// the test fails, saying so, rather than skipping.
pub fn fresh_postgres() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let admin = std::env::var("PREPAID_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "PREPAID_TEST_POSTGRES is not set: run the tests with `cargo xtask test`, which starts a \
             PostgreSQL server for them, or point it at one (postgres://user@host:port/db)"
        )
    });
    let name = format!(
        "prepaid_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    prepaid_host::store::postgres::create_database(&admin, &name).expect("creating a test database")
}

/// A new SQLite journal in `dir`.
pub fn sqlite_store(dir: &Path) -> StoreConfig {
    StoreConfig::Sqlite(dir.join("journal.db"))
}

/// A new PostgreSQL database (see [`fresh_postgres`]).
pub fn postgres_store() -> StoreConfig {
    StoreConfig::Postgres(PostgresConfig::new(fresh_postgres()))
}

/// The raw events of a scenario given as JSON (signed with the actors' dev keys).
pub fn scenario_events(json: &str) -> Vec<Envelope> {
    Scenario::parse(json)
        .expect("a valid scenario")
        .raw_events()
        .expect("signable events")
}

/// `event` on `wallet` under `id`, signed by the development key of `signer`, with no time
/// (a service stamps it).
pub fn signed(wallet: &str, id: &str, signer: &str, event: serde_json::Value) -> Envelope {
    let mut envelope = Envelope {
        wallet: wallet.into(),
        id: id.into(),
        at: None,
        event,
        signature: None,
    };
    envelope.sign(&prepaid_host::keys::dev_key(signer)).unwrap();
    envelope
}

/// The payment adapter's report that the price of `open` (an `open` awaiting funding)
/// reached its wallet from its consumer, under the rail's reference `RAIL-<wallet>`:
/// unsigned, as an operator key sends it.
pub fn funding_of(open: &Envelope) -> Envelope {
    let Ok(prepaid_contract::Event::Open(opened)) = prepaid_contract::Event::parse(&open.body()) else {
        panic!("{} is not an open", open.event);
    };
    Envelope {
        wallet: open.wallet.clone(),
        id: format!("funded-{}", open.wallet),
        at: open.at.clone(),
        event: serde_json::json!({"type": "funded", "reference": format!("RAIL-{}", open.wallet),
                                  "amount": opened.product.price().to_string(), "payer": opened.consumer.to_string()}),
        signature: None,
    }
}

/// Submits `open` and, once it is accepted, the rail's report that its consumer paid it
/// ([`funding_of`]): a sale on the platform. The open's outcome.
pub fn sell(ledger: &Ledger, open: &Envelope) -> prepaid_host::Result<prepaid_host::Submitted> {
    let opened = ledger.submit(open)?;
    if opened.verdict.ok {
        let funded = ledger.submit(&funding_of(open))?;
        assert!(funded.verdict.ok, "{:?}", funded.verdict);
    }
    Ok(opened)
}

/// `service` served for real on a loopback port, ticking and checkpointing as `prepaid
/// serve` does, on a runtime of its own: its base URL, and the runtime, which serves for as
/// long as it lives.
pub fn serve_on_loopback(service: prepaid_host::service::Service) -> (String, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(prepaid_host::service::serve(listener, service, std::future::pending()));
    (url, runtime)
}

/// The acknowledgements of `effects` as an adapter gives them: each under the rail's
/// reference `RAIL-<seq>`.
pub fn paid_under_references(effects: &[prepaid_host::store::OutboxEffect]) -> Vec<prepaid_host::store::Ack> {
    effects
        .iter()
        .map(|effect| prepaid_host::store::Ack::paid(effect.effect_id.clone(), format!("RAIL-{}", effect.seq)))
        .collect()
}

/// Checks that `store` records every effect of `effects` acknowledged, those of `referenced`
/// under their reference (see [`paid_under_references`]) and the others under none.
pub fn assert_ack_references(
    store: &dyn Store,
    effects: &[prepaid_host::store::OutboxEffect],
    referenced: &[prepaid_host::store::OutboxEffect],
) {
    for effect in effects {
        let record = store
            .acks(&effect.wallet)
            .unwrap()
            .into_iter()
            .find(|record| record.effect_id == effect.effect_id)
            .unwrap_or_else(|| panic!("no acknowledgement of {}", effect.effect_id));
        let expected = referenced.contains(effect).then(|| format!("RAIL-{}", effect.seq));
        assert_eq!(record.reference, expected, "{}", effect.effect_id);
    }
}

/// Alice's `open` of ten sessions from gym for 1000.00 (list price 120.00) as `wallet`,
/// with no cooling-off period: a refund values what she used at the list price at once.
pub fn sessions_without_cooling_off(wallet: &str) -> Envelope {
    scenario_events(&format!(
        r#"{{"name": "open", "steps": [
            {{"at": "2026-01-05T09:00:00Z", "wallet": "{wallet}", "by": "alice",
             "event": {{"type": "open", "consumer": "alice", "merchant": "gym", "regulator": "city",
                       "product": {{"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"}},
                       "policy": {{"cooling_off_days": 0, "deemed_confirm_days": 0}}}}}}
        ]}}"#
    ))
    .remove(0)
    .untimed()
}

/// Alice's wallet `wallet` at gym, 20% supervised with no cooling-off period (800.00 of
/// 1000.00 to gym at open), two sessions used (40.00 more), then her refund: the 160.00
/// frozen back, and 600.00 owed by gym, a claim (1000.00 less two sessions at the list
/// price of 120.00, less what was frozen). Then bob's wallet `w-bob` at gym, two sessions
/// authorized: its 200.00 release pays 200.00 of the claim.
pub fn owed_to_alice(ledger: &Ledger, wallet: &str) {
    // Today's rules, whatever the ledger ran before.
    ledger.install(&component_bytes()).unwrap();
    let open = |wallet: &str, consumer: &str, share: &str| {
        scenario_events(&format!(
            r#"{{"name": "open", "steps": [
                {{"at": "2026-01-05T09:00:00Z", "wallet": "{wallet}", "by": "{consumer}",
                 "event": {{"type": "open", "consumer": "{consumer}", "merchant": "gym", "regulator": "city",
                           "product": {{"kind": "sessions", "sessions": 10, "price": "1000.00", "list_price": "120.00"}},
                           "policy": {{"cooling_off_days": 0, "deemed_confirm_days": 0{share}}}}}}}
            ]}}"#
        ))
        .remove(0)
        .untimed()
    };
    let submit = |event: &Envelope| {
        let submitted = ledger.submit(event).unwrap();
        assert!(submitted.verdict.ok, "{:?}", submitted.verdict);
        submitted.verdict.effects
    };
    for (wallet, consumer, share) in [(wallet, "alice", r#", "supervised_share": 20"#), ("w-bob", "bob", "")] {
        submit(&open(wallet, consumer, share));
        request_two(ledger, wallet);
        submit(&signed(
            wallet,
            "a1",
            consumer,
            serde_json::json!({"type": "authorize", "request": "r1", "units": 2}),
        ));
        if consumer == "alice" {
            let effects = submit(&signed(
                wallet,
                "refund",
                "alice",
                serde_json::json!({"type": "refund"}),
            ));
            let effects: Vec<(&str, &str)> = effects
                .iter()
                .map(|effect| (effect.kind.as_str(), effect.amount.as_str()))
                .collect();
            assert_eq!(effects, [("refund", "160.00"), ("claim", "600.00")]);
        }
    }
}

/// Gym asks `wallet` for two sessions (request r1).
pub fn request_two(ledger: &Ledger, wallet: &str) {
    let request = signed(
        wallet,
        "r1",
        "gym",
        serde_json::json!({"type": "request", "request": "r1", "units": 2}),
    );
    assert!(ledger.submit(&request).unwrap().verdict.ok);
}

/// Opens `wallet` and has gym paid for two sessions (200.00 at the paid rate).
pub fn two_sessions_used(ledger: &Ledger, wallet: &str) {
    assert!(ledger.submit(&sessions_without_cooling_off(wallet)).unwrap().verdict.ok);
    request_two(ledger, wallet);
    let authorize = signed(
        wallet,
        "a1",
        "alice",
        serde_json::json!({"type": "authorize", "request": "r1", "units": 2}),
    );
    assert_eq!(ledger.submit(&authorize).unwrap().verdict.effects[0].amount, "200.00");
}

/// The SHA-256 of a dispute's evidence, as the tests give it.
pub const EVIDENCE: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The consumer's (or regulator's) `dispute` of `requests`, or of the whole wallet for
/// none: the service not delivered, on [`EVIDENCE`].
pub fn dispute(requests: &[&str]) -> serde_json::Value {
    let mut event = serde_json::json!({"type": "dispute", "reason": "not_delivered", "evidence": EVIDENCE});
    if !requests.is_empty() {
        event["requests"] = serde_json::json!(requests);
    }
    event
}
