//! `prepaid journal export`: a wallet's history (or every wallet's) as a bundle an auditor
//! verifies alone.

use std::process::ExitCode;

use anyhow::Result;
use prepaid_host::store::sqlite::SqliteStore;

use crate::args::JournalCommand;
use crate::{count, read_checkpoint};

/// Runs `command`.
pub(crate) fn run(command: JournalCommand) -> Result<ExitCode> {
    let JournalCommand::Export {
        db,
        wallet,
        out,
        checkpoint,
        platform_key,
    } = command;
    if !db.exists() {
        anyhow::bail!("no journal at {}", db.display());
    }
    let checkpoint = match (checkpoint, platform_key) {
        (Some(path), Some(key)) => Some(read_checkpoint(&path, &key)?),
        _ => None,
    };
    let (wallets, entries) = SqliteStore::open(&db)?.export(&out, wallet.as_deref(), checkpoint.as_ref())?;
    println!(
        "wrote {}: {}, {}, their outbox and the components they pin{}",
        out.display(),
        count(wallets, "wallet", "wallets"),
        count(entries, "entry", "entries"),
        match &checkpoint {
            Some(checkpoint) => format!(", with their proofs from the checkpoint of {}", checkpoint.head.time),
            None => String::new(),
        }
    );
    Ok(ExitCode::SUCCESS)
}
