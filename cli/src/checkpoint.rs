//! `prepaid checkpoint`: a signed checkpoint of every wallet's head, and `check`, that a
//! later checkpoint extends an earlier one.

use std::process::ExitCode;

use anyhow::Result;
use prepaid_host::store::sqlite::SqliteStore;
use prepaid_host::store::Store as _;
use prepaid_host::verify::Coverage;

use crate::args::{CheckpointArgs, CheckpointCommand};
use crate::{count, open_journal, read_checkpoint, write_new};

/// Runs `prepaid checkpoint` with `args`.
pub(crate) fn run(args: CheckpointArgs) -> Result<ExitCode> {
    match args {
        CheckpointArgs {
            command: None,
            db: Some(db),
            key: Some(key),
            out: Some(out),
        } => {
            if !db.exists() {
                anyhow::bail!("no journal at {}", db.display());
            }
            let key = prepaid_host::keys::read_key_file(&key)?;
            let checkpoint = prepaid_host::signed::checkpoint(SqliteStore::open_read_only(&db)?.leaves()?, &key)?;
            write_new(&out, &checkpoint.to_file())?;
            println!(
                "wrote {}: the checkpoint of {}, {}",
                out.display(),
                checkpoint.head.time,
                count(checkpoint.head.size as usize, "wallet", "wallets")
            );
            Ok(ExitCode::SUCCESS)
        }
        CheckpointArgs { command: None, .. } => unreachable!("clap requires --db, --key and --out"),
        CheckpointArgs {
            command:
                Some(CheckpointCommand::Check {
                    old,
                    new,
                    platform_key,
                    db,
                    bundle,
                }),
            ..
        } => {
            let (old, new) = (
                read_checkpoint(&old, &platform_key)?,
                read_checkpoint(&new, &platform_key)?,
            );
            let journal = open_journal(db.as_deref(), bundle.as_deref())?;
            let coverage = match bundle {
                Some(_) => Coverage::Journal,
                None => Coverage::Checkpoint,
            };
            let divergences = prepaid_host::verify::extends(&journal, &old, &new, coverage)?;
            for divergence in &divergences {
                println!("DIVERGENCE {divergence}");
            }
            let verdict = if divergences.is_empty() {
                "extends it"
            } else {
                "DOES NOT EXTEND it"
            };
            println!(
                "checkpoint of {} ({}) against that of {} ({}): {verdict}",
                new.head.time,
                count(new.head.size as usize, "wallet", "wallets"),
                old.head.time,
                count(old.head.size as usize, "wallet", "wallets"),
            );
            Ok(if divergences.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
