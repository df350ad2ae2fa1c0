//! The platform's commands: keys, signing, applying raw events, reading wallets and the
//! outbox.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use prepaid_host::keys::{generate_key, public_key, read_key_file, write_key_file};
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::{Ack, Entry, Store};
use prepaid_host::{Envelope, Error, Ledger, RefusalCode, Submitted};
use serde_json::json;

/// `prepaid keygen`: a new key pair; the secret goes to `out`, the public key to stdout.
pub fn keygen(out: &Path) -> Result<ExitCode> {
    let key = generate_key()?;
    write_key_file(out, &key)?;
    println!("{}", public_key(&key));
    Ok(ExitCode::SUCCESS)
}

/// `prepaid sign`: signs each raw event read from stdin with `key` (or, with `approve`,
/// adds the regulator's approval to each `open`) and prints it.
pub fn sign(key_file: &Path, approve: bool) -> Result<ExitCode> {
    let key = read_key_file(key_file)?;
    let mut out = std::io::stdout().lock();
    for (number, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let place = || format!("line {}", number + 1);
        let mut envelope: Envelope = serde_json::from_str(&line).with_context(place)?;
        if !approve && envelope.event["type"] == "open" && envelope.event.get("approval").is_none() {
            bail!(
                "{}: an `open` carries the regulator's approval of its terms before the consumer \
                 signs it: approve it first with `prepaid sign --key REGULATOR.key --approve`",
                place()
            );
        }
        match approve {
            true => envelope.approve(&key),
            false => envelope.sign(&key),
        }
        .with_context(place)?;
        writeln!(out, "{}", envelope.to_json())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `prepaid apply`: applies raw events (JSON lines from `input`), `batch` at a time in one
/// transaction (group commit), and prints a JSON line per event once its batch is
/// committed. Exits non-zero when any line was refused before reaching the contract.
pub fn apply(ledger: &Ledger, input: &mut dyn BufRead, batch: usize) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut refused = false;
    let mut lines = input
        .lines()
        .enumerate()
        .filter(|(_, line)| line.as_ref().map_or(true, |line| !line.trim().is_empty()));
    loop {
        // Each line: its number, and the event or why it is no event.
        let mut chunk: Vec<(usize, Result<Envelope>)> = Vec::new();
        for (number, line) in lines.by_ref().take(batch.max(1)) {
            chunk.push((number + 1, Envelope::parse(&line?)));
        }
        if chunk.is_empty() {
            break;
        }
        let events: Vec<Envelope> = chunk.iter().filter_map(|(_, raw)| raw.as_ref().ok().cloned()).collect();
        let mut results = ledger.submit_batch(&events)?.into_iter();
        for (number, raw) in chunk {
            let result = match raw {
                Ok(_) => results.next().expect("a result per event"),
                Err(error) => Err(Error::refused(RefusalCode::BadEnvelope, format!("{error:#}"))),
            };
            let report = match result {
                Ok(submitted) => {
                    let mut line = report(&submitted);
                    line["line"] = number.into();
                    line
                }
                Err(Error::Refused(refusal)) => {
                    refused = true;
                    json!({"line": number, "ok": false, "error": {"code": refusal.code.as_str(), "message": refusal.message}})
                }
                Err(error) => unreachable!("a batch returns refusals only, not {error}"),
            };
            writeln!(out, "{report}")?;
        }
    }
    Ok(if refused { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `prepaid tick`: ticks up to `limit` wallets that have fallen due, by this machine's
/// clock, and prints a JSON line per tick.
pub fn tick(ledger: &Ledger, limit: usize) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut refused = false;
    for tick in ledger.tick_due(limit)? {
        let line = match tick {
            Ok(submitted) => report(&submitted),
            Err(Error::Refused(refusal)) => {
                refused = true;
                json!({"ok": false, "error": {"code": refusal.code.as_str(), "message": refusal.message}})
            }
            Err(error) => unreachable!("a round of ticks returns refusals only, not {error}"),
        };
        writeln!(out, "{line}")?;
    }
    Ok(if refused { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// A JSON line for a submitted event, as `apply` and `tick` print them.
fn report(submitted: &Submitted) -> serde_json::Value {
    json!({
        "wallet": submitted.entry.wallet, "id": submitted.entry.event_id, "at": submitted.entry.at,
        "seq": submitted.entry.seq, "ok": submitted.verdict.ok, "error": submitted.verdict.error,
        "effects": submitted.verdict.effects, "state_hash": submitted.entry.state_hash,
        "fuel": submitted.entry.fuel, "replayed": submitted.replayed,
    })
}

/// `prepaid wallet`: a wallet's figures, head and journal.
pub fn wallet(ledger: &Ledger, wallet: &str, as_json: bool) -> Result<ExitCode> {
    let Some(prepaid_host::Wallet { head, view }) = ledger.wallet(wallet)? else {
        bail!("wallet {wallet} does not exist");
    };
    let entries = ledger.entries(wallet)?;
    if as_json {
        println!(
            "{}",
            json!({"wallet": wallet, "code_hash": head.code_hash, "seq": head.seq, "state_hash": head.state_hash,
                   "view": view, "entries": entries.iter().map(Entry::document).collect::<Vec<_>>()})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "wallet {wallet}: code {}, {} entries, state {}",
        head.code_hash, head.seq, head.state_hash
    );
    if let Some(view) = view {
        println!(
            "{} {}: paid {}, frozen {}, released {}, refunded {}, pending {}",
            view.product, view.status, view.paid, view.frozen, view.released, view.refunded, view.pending
        );
    }
    for entry in entries {
        println!(
            "{:>4}  {}  {:<16}  {}",
            entry.seq, entry.at, entry.event_id, entry.outcome
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `prepaid outbox list`: effects the payment rail has not acknowledged, as JSON lines.
pub fn outbox_list(db: &Path, limit: usize) -> Result<ExitCode> {
    let store = SqliteStore::open_read_only(db)?;
    let effects = store.pending_effects(limit)?;
    let releases: Vec<String> = effects.iter().map(|effect| effect.effect_id.clone()).collect();
    let withheld = store.withheld(&releases)?;
    for payout in prepaid_host::claims::payouts(&effects, &withheld) {
        println!("{}", serde_json::to_string(&payout)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// `prepaid outbox ack`: marks effects as carried out, under the rail's `reference` if
/// given.
pub fn outbox_ack(db: &Path, effect_ids: &[String], reference: Option<&str>, claim: Option<&str>) -> Result<ExitCode> {
    if !db.exists() {
        bail!("no journal at {}", db.display());
    }
    if reference.is_some() && effect_ids.len() != 1 {
        bail!("--reference is the rail's reference for one payment: acknowledge one effect with it");
    }
    let acks: Vec<Ack> = effect_ids
        .iter()
        .map(|effect_id| Ack {
            effect_id: effect_id.clone(),
            reference: reference.map(str::to_owned),
        })
        .collect();
    let counts = SqliteStore::open(db)?.ack_effects(&acks, claim)?;
    match counts.already {
        0 => println!("acknowledged {}", crate::count(counts.newly, "effect", "effects")),
        already => println!(
            "acknowledged {} ({} already acknowledged before)",
            crate::count(counts.newly, "effect", "effects"),
            crate::count(already, "effect was", "effects were")
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `prepaid serve`: structured (JSON) logs on stderr, then the service until stopped.
pub(crate) fn serve(listen: std::net::SocketAddr, service: prepaid_host::service::Service) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        tracing::info!(address = %listener.local_addr()?, "serving");
        prepaid_host::service::serve(listener, service, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C or SIGTERM: the service then answers the requests under way and
/// stops.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: answering the requests under way");
}
