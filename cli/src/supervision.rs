//! The supervision platform's commands: the regulator's signed decisions, a consumer's
//! purchase of a listing, the regulator's statistics of a journal, and its reconciliation
//! with the payment rail.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use prepaid_host::envelope::timestamp;
use prepaid_host::keys::read_key_file;
use prepaid_host::registry::{Listing, MerchantClosure, Registry};
use prepaid_host::stats::Query;
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::Store as _;
use prepaid_host::Envelope;
use serde_json::json;

use crate::args::RegulatorCommand;

/// `value` of the option `--field` read as the word of a snake_case enum.
pub fn word<T: serde::de::DeserializeOwned>(field: &str, value: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .with_context(|| format!("`--{field}` does not take {value:?}"))
}

/// The listing read from stdin, as the service gives it.
fn read_listing() -> Result<Listing> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    serde_json::from_str(&text).context("stdin is not a listing as GET /v1/listings/{id} gives it")
}

/// `prepaid regulator`: prints a signed review or closure.
pub fn regulator(command: RegulatorCommand) -> Result<ExitCode> {
    let body = match command {
        RegulatorCommand::Approve { key, until, reason } => {
            let approval = read_listing()?.approve(&read_key_file(&key)?, timestamp(&until)?)?;
            json!({"decision": "approve", "reason": reason, "approval": approval})
        }
        RegulatorCommand::Close {
            key,
            merchant,
            on,
            reason,
        } => {
            let closure = MerchantClosure::sign(&read_key_file(&key)?, &merchant, timestamp(&on)?)?;
            json!({"reason": reason, "closure": closure})
        }
    };
    println!("{body}");
    Ok(ExitCode::SUCCESS)
}

/// `prepaid buy`: the unsigned open of a listing read from stdin.
pub fn buy(consumer: &str, wallet: &str, id: &str) -> Result<ExitCode> {
    let consumer = match Path::new(consumer).is_file() {
        true => std::fs::read_to_string(consumer)
            .with_context(|| format!("reading the consumer's public key from {consumer}"))?
            .trim()
            .to_owned(),
        false => consumer.to_owned(),
    };
    let envelope = Envelope {
        wallet: wallet.to_owned(),
        id: id.to_owned(),
        at: None,
        event: read_listing()?.open_event(&consumer)?,
        signature: None,
    };
    println!("{}", envelope.to_json());
    Ok(ExitCode::SUCCESS)
}

/// `prepaid stats`: the statistics of the journal at `db`.
pub fn stats(db: &Path, query: Query, json: bool) -> Result<ExitCode> {
    let store = SqliteStore::open_read_only(db)?;
    let registry = Registry::read(store.registry_since(0)?)?;
    query.check()?;
    let rows = store.day_rows(query.to.as_deref())?;
    let lines = query.lines(&rows, &registry);
    if json {
        println!("{}", serde_json::to_string(&lines)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<12} {:>12} {:>12} {:>12} {:>12} {:>8} {:>8} {:>8} {:>8}",
        "group", "paid", "frozen", "released", "refunded", "wallets", "requests", "refunds", "disputes"
    );
    for line in lines {
        // A merchant's key is long: its first 12 digits name it here.
        let group: String = line.group.chars().take(12).collect();
        println!(
            "{group:<12} {:>12} {:>12} {:>12} {:>12} {:>8} {:>8} {:>8} {:>8}",
            line.paid,
            line.frozen,
            line.released,
            line.refunded,
            line.wallets,
            line.requests,
            line.refunds,
            line.disputes
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `prepaid reconcile`: the rail's statement at `statement` against the journal at `db`.
pub fn reconcile(db: &Path, statement: &Path, json: bool) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(statement).with_context(|| format!("reading the statement {}", statement.display()))?;
    let lines = prepaid_host::reconcile::parse_statement(&text)
        .with_context(|| format!("in the statement {}", statement.display()))?;
    let found = prepaid_host::reconcile::reconcile(&SqliteStore::open_read_only(db)?, &lines)?;
    if json {
        println!("{}", serde_json::to_string(&found)?);
    } else {
        for difference in &found.differences {
            let kind = serde_json::to_value(difference.kind)?;
            println!(
                "{} {}: {}",
                kind.as_str().unwrap_or_default(),
                difference.subject,
                difference.detail
            );
        }
        println!(
            "{} of the statement against {} and {}: {}",
            crate::count(found.lines, "line", "lines"),
            crate::count(found.fundings, "funding", "fundings"),
            crate::count(found.effects, "effect", "effects"),
            match found.differences.len() {
                0 => "no difference".to_owned(),
                n => crate::count(n, "difference", "differences"),
            }
        );
    }
    Ok(match found.differences.is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}
