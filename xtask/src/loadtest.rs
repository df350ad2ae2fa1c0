//! `cargo xtask loadtest`: two `prepaid serve` processes over one PostgreSQL, then one over
//! SQLite, each driven on loopback by `prepaid loadtest` with the same mix and clients.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::postgres::Postgres;

/// The operator key the servers are given and the load test sends.
const KEY: &str = "loadtest-operator-key-0123456789";
/// The regulator's and the workload merchant's, with which the load test lists its
/// product before it sends.
const REGULATOR_KEY: &str = "loadtest-regulator-key-0123456789";
const MERCHANT_KEY: &str = "loadtest-merchant-key-0123456789";

/// The public key of the development key `name` (SCENARIOS.md), as hex.
fn dev_public_key(name: &str) -> String {
    use sha2::Digest as _;
    let secret: [u8; 32] = sha2::Sha256::digest(format!("prepaid-dev-key/{name}")).into();
    hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&secret)
            .verifying_key()
            .as_bytes(),
    )
}

/// A running `prepaid serve`, killed when dropped.
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

/// Runs the load test and prints both measurements and their ratio.
pub fn run(root: &Path, component: &Path, wallets: usize, clients: usize) -> Result<()> {
    let prepaid = root.join("target/release/prepaid");
    let dir = root.join("target/loadtest");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let keys = dir.join("keys.json");
    std::fs::write(
        &keys,
        serde_json::json!([
            {"key": KEY, "role": "operator", "name": "loadtest"},
            {"key": REGULATOR_KEY, "role": "regulator", "name": "regulator"},
            {"key": MERCHANT_KEY, "role": "merchant", "name": "merchant", "merchant": dev_public_key("merchant")},
        ])
        .to_string(),
    )?;
    // The trust file: the load's regulator (the development key the standard mix signs
    // with, SCENARIOS.md) and the component served.
    let regulator = dev_public_key("regulator");
    let code_hash = crate::component::sha256_hex(&std::fs::read(component)?);
    std::fs::write(
        dir.join("trust.json"),
        serde_json::json!({
            "regulators": [{"key": regulator, "name": "regulator", "region": "loadtest"}],
            "components": [code_hash],
        })
        .to_string(),
    )?;

    // The platform's key, which signs receipts and checkpoints: a key file holds the secret
    // as 64 hex digits (`prepaid keygen`); any fixed one serves a load test.
    std::fs::write(dir.join("platform.key"), format!("{}\n", "11".repeat(32)))?;

    let postgres = Postgres::start()?;
    let servers = [
        serve(
            &prepaid,
            component,
            &keys,
            &["--postgres", &postgres.url],
            &dir.join("pg-a.log"),
        )?,
        serve(
            &prepaid,
            component,
            &keys,
            &["--postgres", &postgres.url],
            &dir.join("pg-b.log"),
        )?,
    ];
    let shared = drive(&prepaid, &servers, wallets, clients)?;
    drop(servers);
    drop(postgres);

    let db = dir.join("journal.db");
    let single = [serve(
        &prepaid,
        component,
        &keys,
        &["--db", db.to_str().context("a UTF-8 path")?],
        &dir.join("sqlite.log"),
    )?];
    let sqlite = drive(&prepaid, &single, wallets, clients)?;
    println!("two processes, one PostgreSQL: {}", summary(&shared)?);
    println!("one process, SQLite:           {}", summary(&sqlite)?);
    println!(
        "PostgreSQL pair / SQLite single: {:.2}× the events/s",
        shared["events_per_second"].as_f64().unwrap_or_default() / sqlite["events_per_second"].as_f64().unwrap_or(1.0)
    );
    Ok(())
}

fn summary(report: &serde_json::Value) -> Result<String> {
    let number = |field: &str| {
        report[field]
            .as_f64()
            .with_context(|| format!("no {field} in {report}"))
    };
    Ok(format!(
        "{:.0} events/s, p50 {:.2} ms, p99 {:.2} ms ({} events, {} clients)",
        number("events_per_second")?,
        number("p50_ms")?,
        number("p99_ms")?,
        report["events"],
        report["clients"]
    ))
}

/// Starts `prepaid serve` on a free port and waits until it accepts connections.
fn serve(prepaid: &Path, component: &Path, keys: &Path, store: &[&str], log: &PathBuf) -> Result<Server> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address = format!("127.0.0.1:{port}");
    let child = Command::new(prepaid)
        .arg("serve")
        .args(store)
        .args(["--listen", &address, "--keys"])
        .arg(keys)
        .arg("--trust")
        .arg(keys.with_file_name("trust.json"))
        .arg("--platform-key")
        .arg(keys.with_file_name("platform.key"))
        .arg("--component")
        .arg(component)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .context("starting prepaid serve")?;
    let mut server = Server {
        child,
        url: format!("http://{address}"),
    };
    let started = Instant::now();
    while TcpStream::connect(&address).is_err() {
        if let Some(status) = server.child.try_wait()? {
            bail!("prepaid serve exited ({status}); see {}", log.display());
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("prepaid serve did not start listening; see {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(server)
}

/// Runs `prepaid loadtest` against `servers`; its JSON report.
fn drive(prepaid: &Path, servers: &[Server], wallets: usize, clients: usize) -> Result<serde_json::Value> {
    let mut command = Command::new(prepaid);
    command.args(["loadtest", "--json", "--key", KEY]);
    command.args(["--regulator-key", REGULATOR_KEY, "--merchant-key", MERCHANT_KEY]);
    command.args(["--wallets", &wallets.to_string(), "--clients", &clients.to_string()]);
    for server in servers {
        command.args(["--url", &server.url]);
    }
    let output = command.output().context("running prepaid loadtest")?;
    if !output.status.success() {
        bail!("prepaid loadtest failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    serde_json::from_slice(&output.stdout).context("reading the load test's report")
}
