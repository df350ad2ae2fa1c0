//! The stores' schema versions. Each store records the version its tables are at (SQLite
//! in `PRAGMA user_version`, PostgreSQL in a `schema_version` table) and, when it opens one
//! at an earlier version, brings it to [`VERSION`] with the numbered steps after that
//! version, each in the store's own SQL, all in one transaction. A store at [`VERSION`]
//! opens with one read and changes nothing.
//!
//! A store made before versions were recorded is at version 0, whatever tables it has: it
//! runs every step, and each step can run again over what it adds (a table, an index or a
//! column only where it is missing), so that such a store ends at [`VERSION`] too. A store
//! at a later version than this build knows, made by a later build, is refused: this one
//! would misread it.

use anyhow::anyhow;

use crate::error::Result;

/// What each step adds, by the version it brings a store to (the first is version 1).
pub const STEPS: [&str; 11] = [
    "the journal: components, wallets, entries and the outbox",
    "claims on the outbox",
    "the wallets' due times",
    "acknowledgement chains",
    "the platform's registry, sales and statistics",
    "webhook deliveries and the index of consumers",
    "the rail's references in acknowledgements",
    "the platform's admission: whether the journal sells only listings",
    "migrations waiting for their consumer's consent",
    "claims merchants owe consumers, what releases paid of them, and their statistics",
    "the regulator's queue of open disputes, filled from the wallets' states",
];

/// The step (an index into [`STEPS`]) that adds the regulator's queue of disputes: a store
/// running it fills the queue from its wallets' states, in the same transaction.
pub const QUEUE_STEP: usize = 10;

/// The version this build's stores are at.
pub const VERSION: u32 = STEPS.len() as u32;

/// The steps (indexes into a store's list of [`STEPS`]) that take a store at `version` to
/// [`VERSION`]; `what` names the store in the refusal of a later version.
pub(crate) fn pending(version: u32, what: &str) -> Result<std::ops::Range<usize>> {
    if version > VERSION {
        return Err(anyhow!(
            "{what} is at schema version {version}, later than this build's {VERSION}: it was made by a \
             later build of prepaid, which must be the one to open it"
        )
        .into());
    }
    Ok(version as usize..STEPS.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_runs_the_steps_after_its_version_and_refuses_a_later_one() {
        assert_eq!(pending(0, "the journal").unwrap(), 0..STEPS.len());
        assert_eq!(pending(3, "the journal").unwrap(), 3..STEPS.len());
        assert!(pending(VERSION, "the journal").unwrap().is_empty());
        let later = pending(VERSION + 1, "the journal x").unwrap_err().to_string();
        let expected = format!(
            "the journal x is at schema version {}, later than this build's {VERSION}",
            VERSION + 1
        );
        assert!(later.contains(&expected), "{later}");
    }
}
