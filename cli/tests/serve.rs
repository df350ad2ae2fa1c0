//! Two `prepaid serve` processes over one PostgreSQL database, driven by `prepaid loadtest`
//! with each wallet's events alternating between them: every event is accepted once, each
//! wallet's journal is contiguous, and the database verifies clean.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prepaid_host::ledger::Contracts;
use prepaid_host::store::postgres::{create_database, PostgresStore};
use prepaid_host::store::Store;
use prepaid_host::verify::verify;
use prepaid_host::ContractEngine;

const KEY: &str = "operator-key-0123456789";

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

fn serve(database: &str, keys: &Path) -> Server {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .args([
            "serve",
            "--postgres",
            database,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--keys",
        ])
        .arg(keys)
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
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

#[test]
fn two_serve_processes_over_one_postgres_share_wallets_and_lose_nothing() {
    let admin = std::env::var("PREPAID_TEST_POSTGRES")
        .expect("PREPAID_TEST_POSTGRES is not set: run the tests with `cargo xtask test`, which starts PostgreSQL");
    let database = create_database(&admin, &format!("prepaid_serve_{}", std::process::id())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(
        &keys,
        format!(r#"[{{"key": "{KEY}", "role": "operator", "name": "platform"}}]"#),
    )
    .unwrap();
    let servers = [serve(&database, &keys), serve(&database, &keys)];

    let output = Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .args(["loadtest", "--json", "--key", KEY, "--wallets", "30", "--clients", "8"])
        .args(["--url", &servers[0].url, "--url", &servers[1].url])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["events"], 180, "{report}");
    assert_eq!(report["services"], 2);

    let store = PostgresStore::connect(&database).unwrap();
    let wallets = store.wallets().unwrap();
    assert_eq!(wallets.len(), 30);
    for wallet in &wallets {
        let seqs: Vec<u64> = store.entries(wallet).unwrap().iter().map(|entry| entry.seq).collect();
        assert_eq!(seqs, (1..=6).collect::<Vec<_>>(), "{wallet}");
    }
    let verified = verify(&store, &Contracts::new(ContractEngine::new().unwrap())).unwrap();
    assert!(verified.is_clean(), "{:?}", verified.divergences);
    assert_eq!(verified.entries, 180);

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
            (Some(true), Some(6)),
            "{answer}"
        );
    }
}
