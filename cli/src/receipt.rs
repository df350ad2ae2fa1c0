//! `prepaid receipt check`: that a journal or bundle holds exactly the entry a receipt the
//! service signed names.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use prepaid_host::verify::printable;

use crate::args::ReceiptCommand;
use crate::open_journal;

/// Runs `command`.
pub(crate) fn run(command: ReceiptCommand) -> Result<ExitCode> {
    let ReceiptCommand::Check {
        receipt,
        bundle,
        db,
        platform_key,
    } = command;
    let text = std::fs::read_to_string(&receipt).with_context(|| format!("reading {}", receipt.display()))?;
    let receipt = prepaid_host::signed::Receipt::open(&text, &platform_key)
        .with_context(|| format!("reading the receipt {}", receipt.display()))?;
    let journal = open_journal(db.as_deref(), bundle.as_deref())?;
    let place = format!(
        "wallet {}, seq {}, event {} at {}",
        printable(&receipt.wallet),
        receipt.seq,
        printable(&receipt.event_id),
        receipt.at
    );
    match prepaid_host::verify::receipt_entry(&journal, &receipt)? {
        Ok(_) => {
            println!("held: the journal holds exactly the receipt's entry ({place})");
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            println!("NOT HELD: {place}: {}", printable(&why));
            Ok(ExitCode::FAILURE)
        }
    }
}
