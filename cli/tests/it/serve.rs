//! `prepaid serve` processes as a platform runs them:
//! - two over one PostgreSQL database, driven by `prepaid loadtest` with each wallet's events
//!   alternating between them: every event is accepted once, each wallet's journal is
//!   contiguous, and the database verifies clean;
//! - SIGKILLed again and again under HTTP load and restarted (alone on SQLite; one of two
//!   on PostgreSQL): every event answered 2xx is journaled exactly once, no effect is
//!   queued twice, and the store verifies clean.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prepaid_host::keys::{dev_key, public_key};
use prepaid_host::signed::{Checkpoint, Proof, Receipt, TreeHead};
use prepaid_host::store::postgres::{create_database, PostgresConfig};
use prepaid_host::testkit::workload::{approved_listing, events_per_wallet, listed_mix};
use prepaid_host::verify::{receipt_entry, verify};
use prepaid_host::Contracts;
use prepaid_host::{Envelope, Ledger, StoreConfig};

const KEY: &str = "operator-key-0123456789";
const REGULATOR_KEY: &str = "regulator-key-0123456789";
const MERCHANT_KEY: &str = "merchant-key-0123456789";

/// A `prepaid serve` process, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `prepaid serve` on `port` over `store` (its command-line arguments), once it answers.
fn serve_on(port: u16, store: &[String], keys: &Path, cache: &Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .arg("serve")
        .arg("--cache")
        .arg(cache)
        .args(store)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--keys"])
        .arg(keys)
        .arg("--trust")
        .arg(keys.with_file_name("trust.json"))
        .arg("--platform-key")
        .arg(keys.with_file_name("platform.key"))
        .args(["--checkpoint-every", "1"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("starting prepaid serve");
    let mut server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::blocking::Client::new();
    let started = Instant::now();
    while !http
        .get(format!("{}/health", server.url))
        .send()
        .is_ok_and(|response| response.status().is_success())
    {
        assert!(server.child.try_wait().unwrap().is_none(), "prepaid serve exited");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "prepaid serve did not come up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// A keys file with the operator's key, the regulator's and the workload's merchant's, in
/// `dir`.
fn keys_file(dir: &Path) -> std::path::PathBuf {
    let keys = dir.join("keys.json");
    let merchant = public_key(&dev_key("merchant")).to_string();
    std::fs::write(
        &keys,
        serde_json::json!([
            {"key": KEY, "role": "operator", "name": "platform"},
            {"key": REGULATOR_KEY, "role": "regulator", "name": "regulator"},
            {"key": MERCHANT_KEY, "role": "merchant", "name": "merchant", "merchant": merchant},
        ])
        .to_string(),
    )
    .unwrap();
    // Beside it, the platform's key, which signs receipts and checkpoints.
    prepaid_host::keys::write_key_file(&dir.join("platform.key"), &dev_key("platform")).unwrap();
    // And the trust file: the workload's regulator and the component under test.
    crate::trust_file(dir, &public_key(&dev_key("regulator")).to_string());
    keys
}

/// The workload's events for the wallets `bench-N` with N in `wallets`, each opened as a
/// sale of the workload's listing, which this registers and approves in `store` first (a
/// service sells only approved listings).
fn listed_workload(store: &StoreConfig, wallets: std::ops::Range<usize>) -> Vec<Envelope> {
    let ledger = Ledger::open(store.clone(), prepaid_tests::engine()).unwrap();
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 86_400;
    listed_mix("bench", wallets, usize::MAX, &approved_listing(&ledger, until).unwrap()).unwrap()
}

/// A fresh PostgreSQL database on the test server, as a URL.
fn fresh_database(name: &str) -> String {
    let admin = std::env::var("PREPAID_TEST_POSTGRES")
        .expect("PREPAID_TEST_POSTGRES is not set: run the tests with `cargo xtask test`, which starts PostgreSQL");
    create_database(&admin, &format!("prepaid_{name}_{}", std::process::id())).unwrap()
}

#[test]
fn two_serve_processes_over_one_postgres_share_wallets_and_lose_nothing() {
    let database = fresh_database("serve");
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_file(dir.path());
    let store = ["--postgres".to_owned(), database.clone()];
    let cache = dir.path().join("cache");
    let servers = [
        serve_on(free_port(), &store, &keys, &cache),
        serve_on(free_port(), &store, &keys, &cache),
    ];

    let output = Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .args(["loadtest", "--json", "--key", KEY, "--wallets", "30", "--clients", "8"])
        .args(["--regulator-key", REGULATOR_KEY, "--merchant-key", MERCHANT_KEY])
        .args(["--url", &servers[0].url, "--url", &servers[1].url])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["events"], 30 * events_per_wallet(), "{report}");
    assert_eq!(report["services"], 2);

    let store = StoreConfig::Postgres(PostgresConfig::new(database)).connect().unwrap();
    let wallets = store.wallets().unwrap();
    assert_eq!(wallets.len(), 30);
    for wallet in &wallets {
        let seqs: Vec<u64> = store.entries(wallet).unwrap().iter().map(|entry| entry.seq).collect();
        assert_eq!(seqs, (1..=events_per_wallet() as u64).collect::<Vec<_>>(), "{wallet}");
    }
    let verified = verify(store.as_ref(), &Contracts::new(prepaid_tests::engine())).unwrap();
    assert!(verified.is_clean(), "{:?}", verified.divergences);
    assert_eq!(verified.entries, 30 * events_per_wallet());

    // Either process serves what the other recorded.
    let http = reqwest::blocking::Client::new();
    for server in &servers {
        let answer: serde_json::Value = http
            .get(format!("{}/v1/wallets/{}/verify", server.url, wallets[0]))
            .bearer_auth(KEY)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(
            (answer["clean"].as_bool(), answer["entries"].as_u64()),
            (Some(true), Some(events_per_wallet() as u64)),
            "{answer}"
        );
    }
}

/// Sends `event` until a service answers 2xx, trying `urls` in turn from `first` (a killed
/// service refuses connections until it is back), and returns the answer's receipt. Any
/// answer but 2xx or 503 `busy` is a failure.
fn send_until_answered(http: &reqwest::blocking::Client, urls: &[String], first: usize, event: &Envelope) -> String {
    let path = match event.event["type"].as_str() {
        Some("open") => "/v1/wallets".to_owned(),
        _ => format!("/v1/wallets/{}/events", event.wallet),
    };
    let started = Instant::now();
    for attempt in first.. {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "event {} was never answered",
            event.id
        );
        let url = &urls[attempt % urls.len()];
        // As a client sends it: without a time, which the service stamps.
        let Ok(response) = http
            .post(format!("{url}{path}"))
            .bearer_auth(KEY)
            .json(&event.untimed())
            .send()
        else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let status = response.status();
        assert!(
            status.is_success() || status.as_u16() == 503,
            "event {} answered {status}",
            event.id
        );
        // A body cut short by a kill is no answer: send again.
        let Ok(body) = response.json::<serde_json::Value>() else {
            continue;
        };
        if status.is_success() {
            assert_eq!(body["ok"], true, "event {}: {body}", event.id);
            return body["receipt"]
                .as_str()
                .expect("every journaled event has a receipt")
                .to_owned();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    unreachable!("`first..` has no end")
}

/// Kills the first of `copies` services 20 times, spread evenly over the answers, while six
/// clients send the standard mix of 100 wallets through all of them, restarting it each
/// time on the same port; then checks the store. A SIGKILL leaves the operating system's
/// page cache alone, so this catches answers given before a commit, not a missing fsync.
fn killed_under_load(store: StoreConfig, store_args: Vec<String>, copies: usize) {
    const KILLS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_file(dir.path());
    let cache = dir.path().join("cache");
    let ports: Vec<u16> = (0..copies).map(|_| free_port()).collect();
    let servers: Vec<Mutex<Server>> = ports
        .iter()
        .map(|&port| Mutex::new(serve_on(port, &store_args, &keys, &cache)))
        .collect();
    let urls: Vec<String> = ports.iter().map(|port| format!("http://127.0.0.1:{port}")).collect();
    let events = listed_workload(&store, 0..100);
    let per_wallet = events.len() / 100;
    let answered = AtomicUsize::new(0);
    let receipts = Mutex::new(Vec::new());
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..6)
            .map(|client| {
                let (http, urls, events, answered, receipts) = (&http, &urls, &events, &answered, &receipts);
                scope.spawn(move || {
                    for (index, wallet) in events.chunks(per_wallet).enumerate().skip(client).step_by(6) {
                        for (step, event) in wallet.iter().enumerate() {
                            let receipt = send_until_answered(http, urls, index + step, event);
                            receipts.lock().unwrap().push(receipt);
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        let killer = scope.spawn(|| {
            for kill in 1..=KILLS {
                // Each kill lands after its share of the answers, so all 20 fall under load.
                while answered.load(Ordering::Relaxed) < kill * events.len() / (KILLS + 1) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                let mut server = servers[0].lock().unwrap();
                server.child.kill().unwrap();
                server.child.wait().unwrap();
                *server = serve_on(ports[0], &store_args, &keys, &cache);
            }
        });
        for client in clients {
            client.join().unwrap();
        }
        killer.join().unwrap();
    });

    // Every event was answered 2xx at last, so every event is journaled, each exactly once
    // (and the unique event ids mean no second copy could hide).
    let store = store.connect().unwrap();
    let mut recorded = 0;
    let mut produced = 0;
    for wallet in store.wallets().unwrap() {
        let entries = store.entries(&wallet).unwrap();
        let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
        assert_eq!(seqs, (1..=per_wallet as u64).collect::<Vec<_>>(), "{wallet}");
        for entry in &entries {
            let outcome: serde_json::Value = serde_json::from_str(&entry.outcome).unwrap();
            assert_eq!(outcome["ok"], true, "{wallet} seq {}: {outcome}", entry.seq);
            produced += outcome["effects"].as_array().unwrap().len();
        }
        recorded += entries.len();
    }
    assert_eq!(recorded, events.len(), "every event once");
    // The outbox holds exactly the effects the entries name, each with its own recipient,
    // amount and reason (the outbox's key already rules out a second copy).
    let queued = store.pending_effects(usize::MAX).unwrap();
    assert_eq!(queued.len(), produced, "every effect queued");
    for effect in &queued {
        let entry = &store.entries(&effect.wallet).unwrap()[effect.seq as usize - 1];
        let outcome: serde_json::Value = serde_json::from_str(&entry.outcome).unwrap();
        let index: usize = effect.effect_id.rsplit(':').next().unwrap().parse().unwrap();
        let named = &outcome["effects"][index];
        assert_eq!(
            (
                named["kind"].as_str(),
                named["to"].as_str(),
                named["amount"].as_str(),
                named["reason"].as_str()
            ),
            (
                Some(effect.kind.as_str()),
                Some(effect.to.as_str()),
                Some(effect.amount.as_str()),
                Some(effect.reason.as_str())
            ),
            "{}",
            effect.effect_id
        );
    }
    let verified = verify(store.as_ref(), &Contracts::new(prepaid_tests::engine())).unwrap();
    assert!(verified.is_clean(), "{:?}", verified.divergences);
    // Every 2xx answer carried the platform's receipt for an entry the store holds exactly.
    let platform = dev_key("platform").verifying_key();
    let receipts = receipts.into_inner().unwrap();
    assert_eq!(receipts.len(), events.len());
    for text in &receipts {
        let receipt = Receipt::open(text, &platform).unwrap();
        let held = receipt_entry(store.as_ref(), &receipt).unwrap();
        assert!(held.is_ok(), "{text}: {held:?}");
    }
}

#[test]
fn killing_serve_on_sqlite_under_load_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let args = vec!["--db".to_owned(), db.to_str().unwrap().to_owned()];
    killed_under_load(StoreConfig::Sqlite(db), args, 1);
}

#[test]
fn killing_one_of_two_serve_processes_on_postgres_under_load_loses_and_duplicates_nothing() {
    let database = fresh_database("killed");
    let args = vec!["--postgres".to_owned(), database.clone()];
    killed_under_load(StoreConfig::Postgres(PostgresConfig::new(database)), args, 2);
}

/// What the consumer's app keeps and an auditor checks: every journaled event's receipt,
/// the checkpoint the service signs on its own, and the wallet's proof in it. A receipt's
/// entry is in the exported bundle, and `prepaid receipt check` says so; once the entry is
/// re-timed in the bundle, it says it is not.
#[test]
fn receipts_checkpoints_and_proofs_from_serve_are_what_the_journal_holds() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_file(dir.path());
    let db = dir.path().join("journal.db");
    let server = serve_on(
        free_port(),
        &["--db".to_owned(), db.to_str().unwrap().to_owned()],
        &keys,
        &dir.path().join("cache"),
    );
    let http = reqwest::blocking::Client::new();
    let events = listed_workload(&StoreConfig::Sqlite(db.clone()), 0..2);
    let receipts: Vec<String> = events
        .iter()
        .map(|event| send_until_answered(&http, std::slice::from_ref(&server.url), 0, event))
        .collect();
    let platform = dev_key("platform");
    let last = Receipt::open(receipts.last().unwrap(), &platform.verifying_key()).unwrap();
    assert_eq!(
        (last.seq, last.event_id.as_str()),
        (events_per_wallet() as u64, events.last().unwrap().id.as_str())
    );
    // Not under another key.
    assert!(Receipt::open(&receipts[0], &dev_key("someone else").verifying_key()).is_err());

    // The service signs a checkpoint every second: wait for one with both wallets as they
    // are now, then ask for the last wallet's proof in it.
    let started = Instant::now();
    let head = loop {
        let note = http
            .get(format!("{}/v1/checkpoint", server.url))
            .send()
            .unwrap()
            .text()
            .unwrap();
        if let Ok(head) = TreeHead::open(&note, &platform.verifying_key()) {
            let answer: serde_json::Value = http
                .get(format!("{}/v1/wallets/{}/proof", server.url, last.wallet))
                .bearer_auth(KEY)
                .send()
                .unwrap()
                .json()
                .unwrap();
            // Until a checkpoint has the wallet: 404 `not_in_checkpoint`.
            let proof: Option<Proof> = serde_json::from_value(answer).ok();
            if let Some(proof) = proof.filter(|proof| {
                head.size == 2 && proof.leaf.seq == events_per_wallet() as u64 && proof.checkpoint == head.note
            }) {
                assert_eq!(proof.verify(&platform.verifying_key()).unwrap(), head);
                assert_eq!(proof.leaf.head_hash, last.entry_hash);
                break head;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no checkpoint with both wallets"
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    // The whole file, for an auditor's key: the note and every wallet's line, which give
    // the signed root; for no key, nothing.
    let whole = http.get(format!("{}/v1/checkpoint?leaves=true", server.url));
    assert_eq!(whole.send().unwrap().status().as_u16(), 401);
    let file = http
        .get(format!("{}/v1/checkpoint?leaves=true", server.url))
        .bearer_auth(KEY)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let served = Checkpoint::read(&file, &platform.verifying_key()).unwrap();
    assert_eq!(served.leaves.len() as u64, served.head.size);
    assert!(served.head.size >= 2);
    drop(server);

    // The same heads as `prepaid checkpoint` reads from the journal.
    let store = StoreConfig::Sqlite(db.clone()).connect().unwrap();
    let own = Checkpoint::sign(store.leaves().unwrap(), &head.time, &platform).unwrap();
    assert_eq!(own.head.root, head.root);

    let bundle = dir.path().join("wallet.bundle");
    let prepaid = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_prepaid")).args(args).output().unwrap();
    let output = prepaid(&[
        "journal",
        "export",
        "--db",
        db.to_str().unwrap(),
        "--wallet",
        &last.wallet,
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let receipt = dir.path().join("receipt.txt");
    std::fs::write(&receipt, &last.note).unwrap();
    let public = public_key(&platform).to_string();
    let check = |bundle: &Path| {
        let output = prepaid(&[
            "receipt",
            "check",
            receipt.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--platform-key",
            &public,
        ]);
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (held, printed) = check(&bundle);
    assert!(held, "{printed}");
    assert!(
        printed.starts_with("held: the journal holds exactly the receipt's entry"),
        "{printed}"
    );

    let retimed = dir.path().join("retimed.bundle");
    std::fs::copy(&bundle, &retimed).unwrap();
    let conn = rusqlite::Connection::open(&retimed).unwrap();
    conn.execute("UPDATE journal SET at = '2026-01-01T00:00:00Z' WHERE seq = 6", [])
        .unwrap();
    drop(conn);
    let (held, printed) = check(&retimed);
    assert!(!held, "{printed}");
    assert!(printed.starts_with("NOT HELD"), "{printed}");
}

/// One admission: an `open` outside the catalogue, and one approved by a regulator the
/// trust file does not list, are refused alike by `prepaid serve`, by `prepaid apply` on
/// the journal serve runs, and by a library ledger opened on it; none records anything.
/// A ledger given no trust file may not open wallets on a journal that sells only
/// listings, and `apply` without one does not start.
#[test]
fn serve_apply_and_the_library_refuse_the_same_event_alike() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_file(dir.path());
    let trust = dir.path().join("trust.json");
    let db = dir.path().join("journal.db");
    let cache = dir.path().join("cache");
    let server = serve_on(
        free_port(),
        &["--db".to_owned(), db.to_str().unwrap().to_owned()],
        &keys,
        &cache,
    );
    let unlisted = prepaid_host::testkit::workload::mix("unlisted", 0..1, 1)
        .unwrap()
        .remove(0);
    let mut stranger = prepaid_host::testkit::workload::mix("stranger", 0..1, 1)
        .unwrap()
        .remove(0);
    stranger.event["regulator"] = public_key(&dev_key("stranger")).to_string().into();
    stranger.approve(&dev_key("stranger")).unwrap();
    stranger.sign(&dev_key("consumer")).unwrap();

    let http = reqwest::blocking::Client::new();
    let library = Ledger::open(StoreConfig::Sqlite(db.clone()), prepaid_tests::engine())
        .unwrap()
        .with_trust(prepaid_host::Trust::load(&trust).unwrap());
    library
        .install(&std::fs::read(prepaid_host::component_path()).unwrap())
        .unwrap();
    for (event, code) in [(&unlisted, "unlisted"), (&stranger, "untrusted_regulator")] {
        let line = event.untimed().to_json();
        let served: serde_json::Value = http
            .post(format!("{}/v1/wallets", server.url))
            .bearer_auth(KEY)
            .json(&event.untimed())
            .send()
            .unwrap()
            .json()
            .unwrap();
        let applied = crate::prepaid_with_input(
            &[
                "apply",
                "--db",
                db.to_str().unwrap(),
                "--trust",
                trust.to_str().unwrap(),
                "--cache",
                cache.to_str().unwrap(),
            ],
            &format!("{line}\n"),
        );
        let applied: serde_json::Value = serde_json::from_str(crate::text(&applied.stdout).trim()).unwrap();
        let submitted = match library.submit(&event.untimed()) {
            Err(prepaid_host::Error::Refused(refusal)) => refusal.code.as_str().to_owned(),
            other => panic!("the library admitted {}: {other:?}", event.id),
        };
        assert_eq!(
            (
                served["error"]["code"].as_str(),
                applied["error"]["code"].as_str(),
                submitted.as_str()
            ),
            (Some(code), Some(code), code),
            "{served} / {applied}"
        );
        assert!(
            library.head(&event.wallet).unwrap().is_none(),
            "{} was recorded",
            event.wallet
        );
    }

    // A ledger with no trust file may not open wallets on a journal serve runs.
    let untrusting = Ledger::open(StoreConfig::Sqlite(db.clone()), prepaid_tests::engine()).unwrap();
    untrusting
        .install(&std::fs::read(prepaid_host::component_path()).unwrap())
        .unwrap();
    let Err(prepaid_host::Error::Refused(refusal)) = untrusting.submit(&unlisted.untimed()) else {
        panic!("a ledger without a trust file opened a wallet on a journal that sells only listings");
    };
    assert_eq!(refusal.code.as_str(), "untrusted_regulator");
    let without = crate::prepaid_with_input(&["apply", "--db", db.to_str().unwrap()], &unlisted.untimed().to_json());
    assert!(!without.status.success());
    assert!(crate::text(&without.stderr).contains("give --trust FILE"));
    assert!(untrusting.wallets().unwrap().is_empty());
}
