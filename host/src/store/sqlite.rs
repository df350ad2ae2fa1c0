//! The SQLite journal (WAL), the default [`Store`]: every event, accepted or rejected, as
//! one hash-chained entry, committed in one transaction with the wallet's new state.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use rusqlite::{ffi, params, Connection, OpenFlags, OptionalExtension, Row};

use crate::claims::{self, ClaimRow, ConsumerClaim, PaymentRow, Withheld};
use crate::clock::unix_now;
use crate::disputes::QueuedDispute;
use crate::envelope::rfc3339;
use crate::error::{Error, Result};
use crate::outcome::EffectRecord;
use crate::registry::Record;
use crate::signed::{Checkpoint, Leaf, Proof};
use crate::stats::{DayRow, Facts, Figures, Sale};
use crate::store::schema;
use crate::store::{
    ack_now, distinct, Ack, AckRecord, AckRow, Acknowledged, Entry, OutboxEffect, OutboxRow, Store, WalletHead,
    ACK_REFERENCE, DELIVERY_COLUMNS, UNHEADED,
};
use crate::webhooks::Delivery;

/// The journal's schema, a step per version ([`schema::STEPS`] says what each adds):
/// step N takes a journal at version N-1 to N. Statements are separated by `;`; an `ALTER
/// TABLE … ADD COLUMN` runs only where the column is missing, and tables and indexes are
/// made only where missing, so that a journal from before versions runs every step.
const STEPS: [&str; schema::STEPS.len()] = [
    "CREATE TABLE IF NOT EXISTS components (
         code_hash TEXT PRIMARY KEY,
         bytes     BLOB NOT NULL
     );
     CREATE TABLE IF NOT EXISTS wallets (
         wallet     TEXT PRIMARY KEY,
         code_hash  TEXT NOT NULL REFERENCES components(code_hash),
         seq        INTEGER NOT NULL,
         state      BLOB,
         state_hash TEXT NOT NULL,
         head_hash  TEXT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS journal (
         wallet     TEXT NOT NULL,
         seq        INTEGER NOT NULL,
         event_id   TEXT NOT NULL,
         event      TEXT NOT NULL,
         at         TEXT NOT NULL,
         code_hash  TEXT NOT NULL,
         outcome    TEXT NOT NULL,
         fuel       INTEGER NOT NULL,
         limits     INTEGER NOT NULL,
         state_hash TEXT NOT NULL,
         prev_hash  TEXT NOT NULL,
         entry_hash TEXT NOT NULL,
         PRIMARY KEY (wallet, seq),
         UNIQUE (wallet, event_id)
     );
     CREATE TABLE IF NOT EXISTS outbox (
         effect_id TEXT PRIMARY KEY,
         wallet    TEXT NOT NULL,
         seq       INTEGER NOT NULL,
         kind      TEXT NOT NULL,
         recipient TEXT NOT NULL,
         amount    TEXT NOT NULL,
         reason    TEXT NOT NULL,
         acked     INTEGER NOT NULL DEFAULT 0,
         FOREIGN KEY (wallet, seq) REFERENCES journal (wallet, seq)
     );
     CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (acked, wallet, seq)",
    "ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
     ALTER TABLE outbox ADD COLUMN claimed_until INTEGER",
    "ALTER TABLE wallets ADD COLUMN next_due INTEGER;
     CREATE INDEX IF NOT EXISTS wallets_due ON wallets (next_due) WHERE next_due IS NOT NULL",
    // Effects acknowledged before acknowledgements were recorded have no record: `verify`
    // names them.
    "ALTER TABLE wallets ADD COLUMN acks INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE wallets ADD COLUMN ack_hash TEXT NOT NULL
         DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';
     CREATE TABLE IF NOT EXISTS acks (
         wallet      TEXT NOT NULL,
         n           INTEGER NOT NULL,
         effect_id   TEXT NOT NULL UNIQUE,
         effect_hash TEXT NOT NULL,
         at          TEXT NOT NULL,
         prev_hash   TEXT NOT NULL,
         ack_hash    TEXT NOT NULL,
         PRIMARY KEY (wallet, n)
     );
     CREATE INDEX IF NOT EXISTS outbox_wallet ON outbox (wallet, effect_id)",
    "CREATE TABLE IF NOT EXISTS registry (
         n      INTEGER PRIMARY KEY,
         record TEXT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS sales (
         wallet    TEXT PRIMARY KEY,
         merchant  TEXT NOT NULL,
         listing   TEXT,
         opened_at TEXT NOT NULL
     );
     CREATE INDEX IF NOT EXISTS sales_merchant ON sales (merchant, wallet);
     CREATE TABLE IF NOT EXISTS stats (
         merchant  TEXT NOT NULL,
         day       TEXT NOT NULL,
         paid      INTEGER NOT NULL,
         released  INTEGER NOT NULL,
         refunded  INTEGER NOT NULL,
         opened    INTEGER NOT NULL,
         requests  INTEGER NOT NULL,
         refunds   INTEGER NOT NULL,
         disputes  INTEGER NOT NULL,
         pending   INTEGER NOT NULL,
         disputed  INTEGER NOT NULL,
         PRIMARY KEY (merchant, day)
     )",
    "CREATE TABLE IF NOT EXISTS deliveries (
         webhook         TEXT NOT NULL,
         notice          TEXT NOT NULL,
         attempts        INTEGER NOT NULL,
         last_attempt_at TEXT NOT NULL,
         last_result     TEXT NOT NULL,
         delivered_at    TEXT,
         next_attempt    INTEGER NOT NULL,
         PRIMARY KEY (webhook, notice)
     );
     CREATE TABLE IF NOT EXISTS holders (
         wallet   TEXT PRIMARY KEY,
         consumer TEXT NOT NULL
     );
     CREATE INDEX IF NOT EXISTS holders_consumer ON holders (consumer, wallet)",
    // Last in its table, as in every journal: a bundle copies rows column by column.
    "ALTER TABLE acks ADD COLUMN reference TEXT",
    "CREATE TABLE IF NOT EXISTS admission (
         one                 INTEGER PRIMARY KEY CHECK (one = 1),
         closure_notice_days INTEGER NOT NULL
     )",
    "CREATE TABLE IF NOT EXISTS waiting_migrations (
         wallet   TEXT PRIMARY KEY,
         event    TEXT NOT NULL,
         asked_at INTEGER NOT NULL
     )",
    "CREATE TABLE IF NOT EXISTS consumer_claims (
         claim    TEXT PRIMARY KEY,
         wallet   TEXT NOT NULL,
         merchant TEXT NOT NULL,
         consumer TEXT NOT NULL,
         amount   INTEGER NOT NULL,
         paid     INTEGER NOT NULL,
         reason   TEXT NOT NULL,
         at       INTEGER NOT NULL
     );
     CREATE INDEX IF NOT EXISTS consumer_claims_open ON consumer_claims (merchant, at, claim) WHERE paid < amount;
     CREATE INDEX IF NOT EXISTS consumer_claims_wallet ON consumer_claims (wallet, claim);
     CREATE TABLE IF NOT EXISTS claim_payments (
         release TEXT NOT NULL,
         claim   TEXT NOT NULL,
         amount  INTEGER NOT NULL,
         at      INTEGER NOT NULL,
         PRIMARY KEY (release, claim)
     );
     CREATE INDEX IF NOT EXISTS claim_payments_claim ON claim_payments (claim, release);
     ALTER TABLE stats ADD COLUMN unsupervised INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE stats ADD COLUMN owed INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE stats ADD COLUMN collected INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE stats ADD COLUMN unearned INTEGER NOT NULL DEFAULT 0",
    // Filled from the wallets' states as the step runs (`schema::QUEUE_STEP`).
    "CREATE TABLE IF NOT EXISTS disputes (
         wallet     TEXT NOT NULL,
         request    TEXT NOT NULL,
         merchant   TEXT NOT NULL,
         consumer   TEXT NOT NULL,
         by_party   TEXT NOT NULL,
         reason     TEXT NOT NULL,
         evidence   TEXT,
         opened_at  INTEGER NOT NULL,
         ruling_due INTEGER,
         amount     TEXT NOT NULL,
         PRIMARY KEY (wallet, request)
     );
     CREATE INDEX IF NOT EXISTS disputes_due ON disputes (ruling_due, wallet, request)",
];

/// Replaces the queue's rows of `wallet` with `queue`: its disputes open now.
fn record_queue(tx: &Connection, wallet: &str, queue: &[QueuedDispute]) -> Result<()> {
    tx.prepare_cached("DELETE FROM disputes WHERE wallet = ?1")?
        .execute([wallet])
        .with_context(|| format!("clearing the disputes of wallet {wallet} from the queue"))?;
    for dispute in queue {
        tx.prepare_cached(
            "INSERT INTO disputes (wallet, request, merchant, consumer, by_party, reason, evidence, opened_at,
                                   ruling_due, amount)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            dispute.wallet,
            dispute.request.as_deref().unwrap_or_default(),
            dispute.merchant,
            dispute.consumer,
            dispute.by,
            dispute.reason,
            dispute.evidence,
            dispute.opened_at,
            dispute.ruling_due,
            dispute.amount
        ])
        .with_context(|| format!("queueing the disputes of wallet {wallet}"))?;
    }
    Ok(())
}

/// `value` as SQLite's integer.
fn to_sql(value: u64) -> Result<i64> {
    Ok(i64::try_from(value).context("a count beyond SQLite's integers")?)
}

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        wallet: row.get(0)?,
        seq: row.get(1)?,
        event_id: row.get(2)?,
        event: row.get(3)?,
        at: row.get(4)?,
        code_hash: row.get(5)?,
        outcome: row.get(6)?,
        fuel: row.get(7)?,
        limits: row.get(8)?,
        state_hash: row.get(9)?,
        prev_hash: row.get(10)?,
        entry_hash: row.get(11)?,
    })
}

fn effect_from_row(row: &Row<'_>) -> rusqlite::Result<OutboxEffect> {
    effect_from_row_at(row, 0)
}

/// The effect whose columns ([`EFFECT_COLUMNS`]) start at column `at` of `row`.
fn effect_from_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<OutboxEffect> {
    Ok(OutboxEffect {
        effect_id: row.get(at)?,
        wallet: row.get(at + 1)?,
        seq: row.get(at + 2)?,
        kind: row.get(at + 3)?,
        to: row.get(at + 4)?,
        amount: row.get(at + 5)?,
        reason: row.get(at + 6)?,
    })
}

const ENTRY_COLUMNS: &str =
    "wallet, seq, event_id, event, at, code_hash, outcome, fuel, limits, state_hash, prev_hash, entry_hash";
const EFFECT_COLUMNS: &str = "effect_id, wallet, seq, kind, recipient, amount, reason";

/// The journal's schema version (`PRAGMA user_version`).
fn schema_version(conn: &Connection) -> anyhow::Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .context("reading the journal's schema version")
}

/// Brings the journal, read at `version`, to [`schema::VERSION`] (see [`schema`]), in one
/// transaction that holds the write lock and reads the version again under it, so that of
/// two processes opening it at once one migrates and the other finds it done.
fn migrate(conn: &mut Connection, version: u32) -> anyhow::Result<()> {
    if version == schema::VERSION {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .context("locking the journal to migrate it")?;
    for step in schema::pending(schema_version(&tx)?, "the journal")? {
        for statement in STEPS[step].split(';') {
            if let Some((table, column)) = added_column(statement) {
                let present: i64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2 COLLATE NOCASE",
                        [table, column],
                        |row| row.get(0),
                    )
                    .with_context(|| format!("reading the columns of {table}"))?;
                if present > 0 {
                    continue;
                }
            }
            tx.execute_batch(statement)
                .with_context(|| format!("migrating the journal: {}", schema::STEPS[step]))?;
        }
        if step == schema::QUEUE_STEP {
            let heads: Vec<(String, Vec<u8>)> = tx
                .prepare("SELECT wallet, state FROM wallets WHERE state IS NOT NULL")?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<_>>()
                .context("reading the wallets' states to queue their disputes")?;
            for (wallet, state) in heads {
                record_queue(&tx, &wallet, &crate::disputes::of_state(&wallet, &state))?;
            }
        }
    }
    tx.pragma_update(None, "user_version", schema::VERSION)?;
    tx.commit().context("migrating the journal")?;
    Ok(())
}

/// The table and column of an `ALTER TABLE table ADD COLUMN column …` statement.
fn added_column(statement: &str) -> Option<(&str, &str)> {
    let mut words = statement.split_whitespace();
    match (
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
    ) {
        ("ALTER", "TABLE", table, "ADD", "COLUMN") => Some((table, words.next()?)),
        _ => None,
    }
}

/// Whether the acknowledgements carry the rail's references: a journal or bundle made
/// before they did has no such column, and its records none.
fn has_ack_references(conn: &Connection) -> anyhow::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('acks') WHERE name = 'reference'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .context("reading the acknowledgements' columns")?
        > 0)
}

/// The journal in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    /// Whether its acknowledgements carry references: not in a bundle or a journal, opened
    /// read-only, from before they did.
    ack_references: bool,
    /// Whether it keeps the claims' books: not a bundle (which carries the journal alone),
    /// or a journal, opened read-only, from before claims.
    claims_books: bool,
    /// Whether it keeps the regulator's queue of disputes: not a bundle, or a journal,
    /// opened read-only, from before the queue.
    keeps_queue: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut conn = Connection::open(path).with_context(|| format!("opening the journal {}", path.display()))?;
        // The one read a journal at this build's version costs; one of a later build is
        // refused before anything here touches it.
        let version = schema_version(&conn)?;
        schema::pending(version, "the journal")?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .context("switching the journal to WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Other connections (threads of a server, other processes) may hold the write lock
        // for a moment: wait for it rather than fail.
        conn.busy_timeout(Duration::from_secs(30))?;
        migrate(&mut conn, version)?;
        // Migrated, so its acknowledgements carry references.
        Ok(SqliteStore {
            conn,
            ack_references: true,
            claims_books: true,
            keeps_queue: true,
        })
    }

    /// The journal on `conn` read as it is (read-only, a bundle), not migrated: one made by
    /// a later build is refused as `open` refuses it, and one from before acknowledgements
    /// carried references is read without them.
    fn as_it_is(conn: Connection) -> Result<SqliteStore> {
        schema::pending(schema_version(&conn)?, "the journal")?;
        let ack_references = has_ack_references(&conn)?;
        let has_table = |table: &str| -> Result<bool> {
            Ok(conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |row| row.get::<_, i64>(0),
                )
                .with_context(|| format!("looking for the table {table}"))?
                > 0)
        };
        let (claims_books, keeps_queue) = (has_table("consumer_claims")?, has_table("disputes")?);
        Ok(SqliteStore {
            conn,
            ack_references,
            claims_books,
            keeps_queue,
        })
    }

    /// Opens an existing journal without writing to it (for verification). A live journal
    /// in WAL mode still gets its `-wal` and `-shm` files, which SQLite needs to read it.
    pub fn open_read_only(path: &Path) -> Result<SqliteStore> {
        if !path.exists() {
            return Err(anyhow!("no journal at {}", path.display()).into());
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening the journal {} read-only", path.display()))?;
        SqliteStore::as_it_is(conn)
    }

    /// Opens a bundle as an immutable file: nothing is written, not even the lock and WAL
    /// files SQLite makes beside a database, so an auditor's copy stays byte for byte what
    /// the platform sent.
    pub fn open_bundle(path: &Path) -> Result<SqliteStore> {
        if !path.exists() {
            return Err(anyhow!("no bundle at {}", path.display()).into());
        }
        // SQLite would ignore these beside an immutable file, while any other reader of the
        // bundle would read them: a bundle is the one file, or it is refused.
        for suffix in ["-wal", "-journal"] {
            let mut beside = path.as_os_str().to_owned();
            beside.push(suffix);
            if Path::new(&beside).exists() {
                return Err(anyhow!(
                    "{} has a {suffix} file beside it, so it is not one self-contained file; ask for \
                     a bundle from `prepaid journal export`",
                    path.display()
                )
                .into());
            }
        }
        let absolute = std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))?;
        // `file://` and an empty authority: the path follows whole, even one that starts
        // with `//`.
        let mut uri = String::from("file://");
        for byte in absolute.as_os_str().as_encoded_bytes() {
            // A URI path: anything but the plainest characters percent-encoded.
            match byte {
                b if b.is_ascii_alphanumeric() || b"/-_.~".contains(b) => uri.push(char::from(*b)),
                _ => uri.push_str(&format!("%{byte:02X}")),
            }
        }
        uri.push_str("?immutable=1");
        let conn = Connection::open_with_flags(&uri, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI)
            .with_context(|| format!("opening the bundle {} read-only", path.display()))?;
        // The bundle's schema is the platform's to write: only plain tables are read, and
        // nothing in the schema (a view, a trigger) runs.
        conn.pragma_update(None, "trusted_schema", "OFF")?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'
                 AND name IN ('journal', 'wallets', 'components', 'outbox', 'acks')",
                [],
                |row| row.get(0),
            )
            .with_context(|| format!("{} is not a bundle", path.display()))?;
        let others: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type IN ('view', 'trigger')",
            [],
            |row| row.get(0),
        )?;
        if tables != 5 || others != 0 {
            return Err(anyhow!(
                "{} is not a bundle: it must hold the tables journal, wallets, components, outbox and acks, and no \
                 views or triggers",
                path.display()
            )
            .into());
        }
        SqliteStore::as_it_is(conn)
    }

    /// The checkpoint proofs a bundle carries (none for a journal, or a bundle exported
    /// without a checkpoint).
    pub fn proofs(&self) -> Result<Vec<Proof>> {
        let has_proofs: i64 = self.conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'proofs'",
            [],
            |row| row.get(0),
        )?;
        if has_proofs == 0 {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare("SELECT wallet, proof FROM proofs ORDER BY wallet")?;
        let rows = statement
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("reading the bundle's proofs")?;
        rows.into_iter()
            .map(|(wallet, proof)| {
                let proof: Proof = serde_json::from_str(&proof)
                    .with_context(|| format!("the bundle's proof for wallet {wallet} is not a proof"))?;
                if proof.leaf.wallet != wallet {
                    return Err(anyhow!(
                        "the bundle files the proof for wallet {} under {wallet}",
                        proof.leaf.wallet
                    )
                    .into());
                }
                Ok(proof)
            })
            .collect()
    }

    /// Writes a self-contained bundle to `out` (which must not exist): the entries, heads,
    /// outbox rows and acknowledgements of `wallet` (or of every wallet), every component
    /// they pin, and, given a `checkpoint`, the proof of each of those wallets it lists. A
    /// bundle is a journal file itself, so `verify` reads it like any journal. Returns how
    /// many wallets and entries it holds.
    pub fn export(&self, out: &Path, wallet: Option<&str>, checkpoint: Option<&Checkpoint>) -> Result<(usize, usize)> {
        if out.exists() {
            return Err(anyhow!("{} already exists; choose a new file for the bundle", out.display()).into());
        }
        if let Some(wallet) = wallet {
            if self.wallet(wallet)?.is_none() {
                return Err(anyhow!("wallet {wallet} is not in this journal").into());
            }
        }
        drop(SqliteStore::open(out)?);
        let attach = out
            .to_str()
            .with_context(|| format!("{} is not a UTF-8 path", out.display()))?;
        self.conn
            .execute("ATTACH DATABASE ?1 AS bundle", [attach])
            .context("opening the bundle")?;
        let copied = (|| -> rusqlite::Result<(usize, usize)> {
            let filter = "(?1 IS NULL OR wallet = ?1)";
            self.conn.execute(
                &format!(
                    "INSERT INTO bundle.components SELECT * FROM main.components
                     WHERE code_hash IN (SELECT DISTINCT code_hash FROM main.wallets WHERE {filter})"
                ),
                [wallet],
            )?;
            let wallets = self.conn.execute(
                &format!("INSERT INTO bundle.wallets SELECT * FROM main.wallets WHERE {filter}"),
                [wallet],
            )?;
            let entries = self.conn.execute(
                &format!("INSERT INTO bundle.journal SELECT * FROM main.journal WHERE {filter}"),
                [wallet],
            )?;
            for table in ["outbox", "acks"] {
                self.conn.execute(
                    &format!("INSERT INTO bundle.{table} SELECT * FROM main.{table} WHERE {filter}"),
                    [wallet],
                )?;
            }
            if let Some(checkpoint) = checkpoint {
                self.conn
                    .execute_batch("CREATE TABLE bundle.proofs (wallet TEXT PRIMARY KEY, proof TEXT NOT NULL)")?;
                let mut listed = self
                    .conn
                    .prepare(&format!("SELECT wallet FROM bundle.wallets WHERE {filter}"))?;
                let exported = listed
                    .query_map([wallet], |row| row.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                for wallet in exported {
                    if let Some(proof) = checkpoint.proof(&wallet) {
                        let proof = serde_json::to_string(&proof).expect("proofs serialize");
                        self.conn.execute(
                            "INSERT INTO bundle.proofs (wallet, proof) VALUES (?1, ?2)",
                            [&wallet, &proof],
                        )?;
                    }
                }
            }
            Ok((wallets, entries))
        })();
        let detached = self
            .conn
            .execute("DETACH DATABASE bundle", [])
            .context("closing the bundle");
        if copied.is_err() || detached.is_err() {
            // A failed export leaves nothing behind that could pass for a bundle.
            let _ = std::fs::remove_file(out);
        }
        detached?;
        let copied = copied.context("copying into the bundle")?;
        // A bundle is one file: out of WAL mode, so that reading it needs nothing beside it.
        let mode = Connection::open(out)
            .and_then(|bundle| bundle.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get::<_, String>(0)));
        if !matches!(mode.as_deref(), Ok("delete")) {
            let _ = std::fs::remove_file(out);
            return Err(anyhow!("could not make {} one self-contained file ({mode:?})", out.display()).into());
        }
        Ok(copied)
    }
}

impl Store for SqliteStore {
    fn transaction(&mut self, work: &mut dyn FnMut(&mut dyn Store) -> Result<()>) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .context("starting a transaction")?;
        match work(self) {
            Ok(()) => Ok(self.conn.execute_batch("COMMIT").context("committing")?),
            Err(error) => {
                self.conn.execute_batch("ROLLBACK").context("rolling back")?;
                Err(error)
            }
        }
    }

    fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEffect>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {EFFECT_COLUMNS} FROM outbox WHERE acked = 0 ORDER BY wallet, seq, effect_id LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map([limit], effect_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>().context("reading the outbox")?)
    }

    fn one_writer_at_a_time(&self) -> bool {
        true
    }

    fn claim_effects(&mut self, claimant: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxEffect>> {
        let now = unix_now();
        let until = now.saturating_add(i64::try_from(lease.as_secs()).unwrap_or(i64::MAX));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One statement, so one write transaction: SQLite runs them one at a time, and no
        // two claimants can take the same effect.
        let mut statement = self.conn.prepare(&format!(
            "UPDATE outbox SET claimed_by = ?1, claimed_until = ?2 WHERE effect_id IN (
                 SELECT effect_id FROM outbox
                 WHERE acked = 0 AND (claimed_until IS NULL OR claimed_until < ?3)
                 ORDER BY wallet, seq, effect_id LIMIT ?4)
             RETURNING {EFFECT_COLUMNS}"
        ))?;
        let rows = statement.query_map(params![claimant, until, now, limit], effect_from_row)?;
        let mut claimed = rows.collect::<rusqlite::Result<Vec<_>>>().context("claiming effects")?;
        claimed.sort_by(|a, b| (&a.wallet, a.seq, &a.effect_id).cmp(&(&b.wallet, b.seq, &b.effect_id)));
        Ok(claimed)
    }

    fn ack_effects(&mut self, acks: &[Ack], claim: Option<&str>) -> Result<Acknowledged> {
        let listed = distinct(acks)?;
        // Immediate: it reads, then writes; a deferred transaction could not upgrade to a
        // writer while another connection commits, and would fail instead of waiting.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (mut counts, now) = (Acknowledged::default(), unix_now());
        let at = rfc3339(now)?;
        for (id, reference) in listed {
            let row = tx
                .query_row(
                    &format!(
                        "SELECT acked, claimed_by, claimed_until, {ACK_REFERENCE}, {EFFECT_COLUMNS} FROM outbox
                         WHERE effect_id = ?1"
                    ),
                    [id],
                    |row| {
                        Ok(AckRow {
                            acked: row.get(0)?,
                            holder: row.get(1)?,
                            until: row.get(2)?,
                            reference: row.get(3)?,
                            effect: effect_from_row_at(row, 4)?,
                        })
                    },
                )
                .optional()?;
            let effect = row.as_ref().map(|row| row.effect.clone());
            if let (true, Some(effect)) = (ack_now(id, row, reference, claim, now)?, effect) {
                let (acks, ack_hash): (u64, String) = tx
                    .query_row(
                        "SELECT acks, ack_hash FROM wallets WHERE wallet = ?1",
                        [&effect.wallet],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?
                    .ok_or_else(|| Error::UnknownEffect(id.to_owned()))?;
                let record = AckRecord::next(&effect, reference, acks, &ack_hash, &at);
                tx.execute(
                    "INSERT INTO acks (wallet, n, effect_id, effect_hash, at, prev_hash, ack_hash, reference)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        record.wallet,
                        record.n,
                        record.effect_id,
                        record.effect_hash,
                        record.at,
                        record.prev_hash,
                        record.ack_hash,
                        record.reference
                    ],
                )?;
                tx.execute(
                    "UPDATE wallets SET acks = ?2, ack_hash = ?3 WHERE wallet = ?1",
                    params![record.wallet, record.n, record.ack_hash],
                )?;
                tx.execute("UPDATE outbox SET acked = 1 WHERE effect_id = ?1", [id])?;
                counts.newly += 1;
            } else {
                counts.already += 1;
            }
        }
        tx.commit().context("acknowledging effects")?;
        Ok(counts)
    }

    fn put_component(&mut self, code_hash: &str, bytes: &[u8]) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO components (code_hash, bytes) VALUES (?1, ?2)",
                params![code_hash, bytes],
            )
            .context("storing a component")?;
        Ok(())
    }

    fn component(&self, code_hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT bytes FROM components WHERE code_hash = ?1",
                [code_hash],
                |row| row.get(0),
            )
            .optional()
            .context("reading a component")?)
    }

    fn components(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut statement = self
            .conn
            .prepare("SELECT code_hash, bytes FROM components ORDER BY code_hash")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>().context("reading components")?)
    }

    fn wallet(&self, wallet: &str) -> Result<Option<WalletHead>> {
        // The statements on the path of every event are prepared once per connection.
        Ok(self
            .conn
            .prepare_cached(
                "SELECT wallet, code_hash, seq, state, state_hash, head_hash, next_due, acks, ack_hash
                 FROM wallets WHERE wallet = ?1",
            )?
            .query_row([wallet], |row| {
                Ok(WalletHead {
                    wallet: row.get(0)?,
                    code_hash: row.get(1)?,
                    seq: row.get(2)?,
                    state: row.get(3)?,
                    state_hash: row.get(4)?,
                    head_hash: row.get(5)?,
                    next_due: row.get(6)?,
                    acks: row.get(7)?,
                    ack_hash: row.get(8)?,
                })
            })
            .optional()
            .with_context(|| format!("reading wallet {wallet}"))?)
    }

    fn wallets(&self) -> Result<Vec<String>> {
        let mut statement = self.conn.prepare("SELECT wallet FROM wallets ORDER BY wallet")?;
        let rows = statement.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>().context("listing wallets")?)
    }

    fn leaves(&self) -> Result<Vec<Leaf>> {
        let mut statement = self
            .conn
            .prepare("SELECT wallet, seq, head_hash, acks, ack_hash FROM wallets")?;
        let rows = statement.query_map([], |row| {
            Ok(Leaf {
                wallet: row.get(0)?,
                seq: row.get(1)?,
                head_hash: row.get(2)?,
                acks: row.get(3)?,
                ack_hash: row.get(4)?,
            })
        })?;
        Ok(rows
            .collect::<rusqlite::Result<_>>()
            .context("reading the wallets' heads")?)
    }

    fn unheaded(&self) -> Result<Vec<String>> {
        let mut statement = self.conn.prepare(UNHEADED)?;
        let rows = statement.query_map([], |row| row.get(0))?;
        Ok(rows
            .collect::<rusqlite::Result<_>>()
            .context("looking for rows without a head")?)
    }

    fn outbox(&self, wallet: &str) -> Result<Vec<OutboxRow>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {EFFECT_COLUMNS}, acked FROM outbox WHERE wallet = ?1 ORDER BY effect_id"
        ))?;
        let rows = statement.query_map([wallet], |row| {
            Ok(OutboxRow {
                effect: effect_from_row(row)?,
                acked: row.get(7)?,
            })
        })?;
        Ok(rows
            .collect::<rusqlite::Result<_>>()
            .with_context(|| format!("reading the outbox of wallet {wallet}"))?)
    }

    fn acks(&self, wallet: &str) -> Result<Vec<AckRecord>> {
        let reference = match self.ack_references {
            true => "reference",
            false => "NULL",
        };
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT wallet, n, effect_id, effect_hash, at, prev_hash, ack_hash, {reference} FROM acks
             WHERE wallet = ?1 ORDER BY n"
        ))?;
        let rows = statement.query_map([wallet], |row| {
            Ok(AckRecord {
                wallet: row.get(0)?,
                n: row.get(1)?,
                effect_id: row.get(2)?,
                effect_hash: row.get(3)?,
                at: row.get(4)?,
                prev_hash: row.get(5)?,
                ack_hash: row.get(6)?,
                reference: row.get(7)?,
            })
        })?;
        Ok(rows
            .collect::<rusqlite::Result<_>>()
            .with_context(|| format!("reading the acknowledgements of wallet {wallet}"))?)
    }

    fn entry_by_event_id(&self, wallet: &str, event_id: &str) -> Result<Option<Entry>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM journal WHERE wallet = ?1 AND event_id = ?2"
            ))?
            .query_row([wallet, event_id], entry_from_row)
            .optional()
            .context("looking up an event id")?)
    }

    fn entries(&self, wallet: &str) -> Result<Vec<Entry>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM journal WHERE wallet = ?1 ORDER BY seq"
        ))?;
        let rows = statement.query_map([wallet], entry_from_row)?;
        Ok(rows
            .collect::<rusqlite::Result<_>>()
            .with_context(|| format!("reading the journal of wallet {wallet}"))?)
    }

    fn due_wallets(&self, now: i64, limit: usize, skip: &[String]) -> Result<Vec<String>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT wallet FROM wallets WHERE next_due <= ?1 AND code_hash NOT IN (SELECT value FROM json_each(?3)) \
             ORDER BY next_due, wallet LIMIT ?2",
        )?;
        let skip = serde_json::to_string(skip).context("listing the components not ticked")?;
        let wallets = statement
            .query_map(params![now, i64::try_from(limit).unwrap_or(i64::MAX), skip], |row| {
                row.get(0)
            })?
            .collect::<rusqlite::Result<Vec<String>>>()
            .context("listing the wallets due")?;
        Ok(wallets)
    }

    fn append(
        &mut self,
        entry: &Entry,
        state: Option<&[u8]>,
        next_due: Option<i64>,
        effects: &[EffectRecord],
        facts: &Facts,
    ) -> Result<()> {
        // A savepoint commits on its own, or becomes part of an open batch.
        let tx = self.conn.savepoint()?;
        tx.prepare_cached(&format!(
            "INSERT INTO journal ({ENTRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        ))?
        .execute(params![
            entry.wallet,
            entry.seq,
            entry.event_id,
            entry.event,
            entry.at,
            entry.code_hash,
            entry.outcome,
            entry.fuel,
            entry.limits,
            entry.state_hash,
            entry.prev_hash,
            entry.entry_hash
        ])
        .map_err(|error| match error.sqlite_error().map(|error| error.extended_code) {
            Some(ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE) => Error::Conflict {
                wallet: entry.wallet.clone(),
                seq: entry.seq,
            },
            _ => anyhow::Error::new(error)
                .context(format!("appending entry {} of wallet {}", entry.seq, entry.wallet))
                .into(),
        })?;
        for (index, effect) in effects.iter().enumerate().filter(|(_, effect)| effect.moves_money()) {
            tx.prepare_cached(&format!(
                "INSERT INTO outbox ({EFFECT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                entry.effect_id(index),
                entry.wallet,
                entry.seq,
                effect.kind,
                effect.to,
                effect.amount,
                effect.reason
            ])
            .with_context(|| format!("queueing the effects of entry {} of wallet {}", entry.seq, entry.wallet))?;
        }
        tx.prepare_cached(
            "INSERT INTO wallets (wallet, code_hash, seq, state, state_hash, head_hash, next_due)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (wallet) DO UPDATE SET code_hash = ?2, seq = ?3, state = ?4, state_hash = ?5, head_hash = ?6,
                 next_due = ?7",
        )?
        .execute(params![
            entry.wallet,
            entry.code_hash,
            entry.seq,
            state,
            entry.state_hash,
            entry.entry_hash,
            next_due
        ])
        .with_context(|| format!("moving the head of wallet {}", entry.wallet))?;
        if let Some(holder) = &facts.holder {
            tx.prepare_cached(
                "INSERT INTO holders (wallet, consumer) VALUES (?1, ?2)
                 ON CONFLICT (wallet) DO UPDATE SET consumer = ?2",
            )?
            .execute(params![entry.wallet, holder])
            .with_context(|| format!("indexing wallet {} under its consumer", entry.wallet))?;
        }
        if let Some(sale) = &facts.sale {
            tx.prepare_cached("INSERT INTO sales (wallet, merchant, listing, opened_at) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![entry.wallet, sale.merchant, sale.listing, facts.at])
                .with_context(|| format!("indexing wallet {} under its merchant", entry.wallet))?;
        }
        if let Some(queue) = &facts.queue {
            record_queue(&tx, &entry.wallet, queue)?;
        }
        let mut figures = facts.figures;
        figures.collected = record_claims(&tx, entry, effects, facts)?;
        if let Some(merchant) = facts.merchant.as_ref().filter(|_| !figures.is_zero()) {
            tx.prepare_cached(
                "INSERT INTO stats (merchant, day, paid, released, refunded, opened, requests, refunds, disputes,
                                    pending, disputed, unsupervised, owed, collected, unearned)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (merchant, day) DO UPDATE SET paid = paid + excluded.paid,
                     released = released + excluded.released, refunded = refunded + excluded.refunded,
                     opened = opened + excluded.opened, requests = requests + excluded.requests,
                     refunds = refunds + excluded.refunds, disputes = disputes + excluded.disputes,
                     pending = pending + excluded.pending, disputed = disputed + excluded.disputed,
                     unsupervised = unsupervised + excluded.unsupervised, owed = owed + excluded.owed,
                     collected = collected + excluded.collected, unearned = unearned + excluded.unearned",
            )?
            .execute(params![
                merchant,
                facts.day,
                to_sql(figures.paid)?,
                to_sql(figures.released)?,
                to_sql(figures.refunded)?,
                to_sql(figures.opened)?,
                to_sql(figures.requests)?,
                to_sql(figures.refunds)?,
                to_sql(figures.disputes)?,
                figures.pending,
                figures.disputed,
                to_sql(figures.unsupervised)?,
                to_sql(figures.owed)?,
                to_sql(figures.collected)?,
                figures.unearned
            ])
            .with_context(|| {
                format!(
                    "adding entry {} of wallet {} to the statistics",
                    entry.seq, entry.wallet
                )
            })?;
        }
        Ok(tx.commit().context("committing the entry")?)
    }

    fn registry_append(&mut self, record: &Record) -> Result<()> {
        let json = serde_json::to_string(record).context("writing a registry record")?;
        self.conn
            .prepare_cached("INSERT INTO registry (n, record) VALUES (?1, ?2)")?
            .execute(params![to_sql(record.n)?, json])
            .map_err(|error| match error.sqlite_error().map(|error| error.extended_code) {
                Some(ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE) => Error::Conflict {
                    wallet: "(registry)".into(),
                    seq: record.n,
                },
                _ => anyhow::Error::new(error).context("appending to the registry").into(),
            })?;
        Ok(())
    }

    fn registry_since(&self, after: u64) -> Result<Vec<Record>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT record FROM registry WHERE n > ?1 ORDER BY n")?;
        let rows = statement
            .query_map([to_sql(after)?], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter()
            .map(|json| Ok(serde_json::from_str(json).context("reading a registry record")?))
            .collect()
    }

    fn delivery(&self, webhook: &str, notice: &str) -> Result<Option<Delivery>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE webhook = ?1 AND notice = ?2"
            ))?
            .query_row([webhook, notice], delivery_from_row)
            .optional()?)
    }

    fn record_delivery(&mut self, delivery: &Delivery) -> Result<()> {
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO deliveries ({DELIVERY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                delivery.webhook,
                delivery.notice,
                delivery.attempts,
                delivery.last_attempt_at,
                delivery.last_result,
                delivery.delivered_at,
                delivery.next_attempt
            ])
            .context("recording a webhook delivery")?;
        Ok(())
    }

    fn deliveries(&self, webhook: &str, limit: usize) -> Result<Vec<Delivery>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE webhook = ?1
             ORDER BY last_attempt_at DESC, notice LIMIT ?2"
        ))?;
        let deliveries = statement
            .query_map(
                params![webhook, i64::try_from(limit).unwrap_or(i64::MAX)],
                delivery_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(deliveries)
    }

    fn holdings(&self, consumer: &str) -> Result<Vec<String>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT wallet FROM holders WHERE consumer = ?1 ORDER BY wallet")?;
        let wallets = statement
            .query_map([consumer], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(wallets)
    }

    fn sales_of(&self, merchant: &str) -> Result<Vec<String>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT wallet FROM sales WHERE merchant = ?1 ORDER BY wallet")?;
        let wallets = statement
            .query_map([merchant], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(wallets)
    }

    fn holder_of(&self, wallet: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT consumer FROM holders WHERE wallet = ?1")?
            .query_row([wallet], |row| row.get(0))
            .optional()?)
    }

    fn listed_only(&self) -> Result<Option<u32>> {
        Ok(self
            .conn
            .prepare_cached("SELECT closure_notice_days FROM admission")?
            .query_row([], |row| row.get(0))
            .optional()?)
    }

    fn set_listed_only(&mut self, closure_notice_days: u32) -> Result<()> {
        self.conn.execute(
            "INSERT INTO admission (one, closure_notice_days) VALUES (1, ?1)
             ON CONFLICT (one) DO UPDATE SET closure_notice_days = excluded.closure_notice_days",
            [closure_notice_days],
        )?;
        Ok(())
    }

    fn waiting_migration(&self, wallet: &str) -> Result<Option<(String, i64)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT event, asked_at FROM waiting_migrations WHERE wallet = ?1")?
            .query_row([wallet], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?)
    }

    fn set_waiting_migration(&mut self, wallet: &str, waiting: Option<(&str, i64)>) -> Result<()> {
        match waiting {
            Some((event, asked_at)) => self.conn.execute(
                "INSERT INTO waiting_migrations (wallet, event, asked_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (wallet) DO UPDATE SET event = excluded.event, asked_at = excluded.asked_at",
                params![wallet, event, asked_at],
            )?,
            None => self
                .conn
                .execute("DELETE FROM waiting_migrations WHERE wallet = ?1", [wallet])?,
        };
        Ok(())
    }

    fn merchant_of(&self, wallet: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT merchant FROM sales WHERE wallet = ?1")?
            .query_row([wallet], |row| row.get(0))
            .optional()?)
    }

    fn claims_books(&self) -> bool {
        self.claims_books
    }

    fn keeps_queue(&self) -> bool {
        self.keeps_queue
    }

    fn open_disputes(&self) -> Result<Vec<QueuedDispute>> {
        if !self.keeps_queue {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT wallet, request, merchant, consumer, by_party, reason, evidence, opened_at, ruling_due, amount
             FROM disputes ORDER BY ruling_due IS NULL, ruling_due, wallet, request",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(QueuedDispute {
                wallet: row.get(0)?,
                request: Some(row.get::<_, String>(1)?).filter(|request| !request.is_empty()),
                merchant: row.get(2)?,
                consumer: row.get(3)?,
                by: row.get(4)?,
                reason: row.get(5)?,
                evidence: row.get(6)?,
                opened_at: row.get(7)?,
                ruling_due: row.get(8)?,
                amount: row.get(9)?,
            })
        })?;
        Ok(rows
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("reading the disputes' queue")?)
    }

    fn claims_of(&self, wallet: &str) -> Result<Vec<ConsumerClaim>> {
        self.claims_where("c.wallet = ?1", wallet)
    }

    fn open_claims(&self) -> Result<Vec<ConsumerClaim>> {
        self.claims_where("c.paid < c.amount AND ?1 = ?1", "")
    }

    fn withheld(&self, releases: &[String]) -> Result<Vec<Withheld>> {
        if !self.claims_books {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT p.release, p.claim, c.consumer, p.amount, c.merchant FROM claim_payments p
             JOIN consumer_claims c ON c.claim = p.claim WHERE p.release = ?1 ORDER BY c.at, p.claim",
        )?;
        let mut withheld = Vec::new();
        for release in releases {
            let rows = statement.query_map([release], |row| {
                Ok(Withheld {
                    release: row.get(0)?,
                    claim: row.get(1)?,
                    to: row.get(2)?,
                    amount: crate::text::yuan(row.get::<_, i64>(3)?.max(0)),
                    merchant: row.get(4)?,
                })
            })?;
            withheld.extend(
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .context("reading what releases pay of claims")?,
            );
        }
        Ok(withheld)
    }

    fn unindexed(&self) -> Result<Vec<String>> {
        let mut statement = self.conn.prepare(
            "SELECT wallet FROM wallets WHERE wallet NOT IN (SELECT wallet FROM sales)
                 OR (state IS NOT NULL AND wallet NOT IN (SELECT wallet FROM holders))
             ORDER BY wallet",
        )?;
        let wallets = statement
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(wallets)
    }

    fn index_holder(&mut self, wallet: &str, consumer: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO holders (wallet, consumer) VALUES (?1, ?2) ON CONFLICT (wallet) DO NOTHING",
                params![wallet, consumer],
            )
            .with_context(|| format!("indexing wallet {wallet} under its consumer"))?;
        Ok(())
    }

    fn index_sale(&mut self, wallet: &str, sale: &Sale, opened_at: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sales (wallet, merchant, listing, opened_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (wallet) DO NOTHING",
                params![wallet, sale.merchant, sale.listing, opened_at],
            )
            .with_context(|| format!("indexing wallet {wallet} under its merchant"))?;
        Ok(())
    }

    fn sales_after(&self, merchant: &str, at: &str) -> Result<u64> {
        // At or after: a sale in the very second of the notice is one too many.
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM sales WHERE merchant = ?1 AND opened_at >= ?2",
            [merchant, at],
            |row| row.get(0),
        )?;
        Ok(count.max(0) as u64)
    }

    fn day_rows(&self, to: Option<&str>) -> Result<Vec<DayRow>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT merchant, day, paid, released, refunded, opened, requests, refunds, disputes, pending, disputed,
                    unsupervised, owed, collected, unearned
             FROM stats WHERE ?1 IS NULL OR day <= ?1 ORDER BY day, merchant",
        )?;
        let rows = statement
            .query_map([to], |row| {
                let count = |index: usize| row.get::<_, i64>(index).map(|value| value.max(0) as u64);
                Ok(DayRow {
                    merchant: row.get(0)?,
                    day: row.get(1)?,
                    figures: Figures {
                        paid: count(2)?,
                        released: count(3)?,
                        refunded: count(4)?,
                        opened: count(5)?,
                        requests: count(6)?,
                        refunds: count(7)?,
                        disputes: count(8)?,
                        pending: row.get(9)?,
                        disputed: row.get(10)?,
                        unsupervised: count(11)?,
                        owed: count(12)?,
                        collected: count(13)?,
                        unearned: row.get(14)?,
                    },
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// Records the claims `effects` of `entry` owe on the wallet's merchant (`facts.merchant`,
/// or the one its sale indexed) and pays each release's merchant's open claims out of it,
/// oldest first. Returns what the releases paid of claims, in fen.
fn record_claims(tx: &Connection, entry: &Entry, effects: &[EffectRecord], facts: &Facts) -> Result<u64> {
    let (recorded, releases) = claims::of_entry(entry, effects)?;
    if recorded.is_empty() && releases.is_empty() {
        return Ok(0);
    }
    let at = crate::envelope::timestamp(&entry.at)?;
    for claim in &recorded {
        tx.prepare_cached(
            "INSERT INTO consumer_claims (claim, wallet, merchant, consumer, amount, paid, reason, at)
             VALUES (?1, ?2, COALESCE(?3, (SELECT merchant FROM sales WHERE wallet = ?2), ''), ?4, ?5, 0, ?6, ?7)",
        )?
        .execute(params![
            claim.claim,
            entry.wallet,
            facts.merchant,
            claim.to,
            to_sql(claim.fen)?,
            claim.reason,
            at
        ])
        .with_context(|| format!("recording claim {}", claim.claim))?;
    }
    let mut collected = 0;
    for release in &releases {
        let open = tx
            .prepare_cached(
                "SELECT claim, amount - paid FROM consumer_claims WHERE merchant = ?1 AND paid < amount
                 ORDER BY at, claim",
            )?
            .query_map([&release.to], |row| {
                Ok((row.get(0)?, row.get::<_, i64>(1)?.max(0) as u64))
            })?
            .collect::<rusqlite::Result<Vec<(String, u64)>>>()?;
        for (claim, fen) in claims::allocate(release.fen, &open) {
            tx.prepare_cached("INSERT INTO claim_payments (release, claim, amount, at) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![release.release, claim, to_sql(fen)?, at])?;
            tx.prepare_cached("UPDATE consumer_claims SET paid = paid + ?2 WHERE claim = ?1")?
                .execute(params![claim, to_sql(fen)?])?;
            collected += fen;
        }
    }
    Ok(collected)
}

/// The columns of a claim as [`claim_from_row`] reads them.
const CLAIM_COLUMNS: &str = "claim, wallet, merchant, consumer, amount, paid, reason, at";

fn claim_from_row(row: &Row<'_>) -> rusqlite::Result<ClaimRow> {
    Ok(ClaimRow {
        claim: row.get(0)?,
        wallet: row.get(1)?,
        merchant: row.get(2)?,
        consumer: row.get(3)?,
        amount: row.get::<_, i64>(4)?.max(0) as u64,
        paid: row.get::<_, i64>(5)?.max(0) as u64,
        reason: row.get(6)?,
        at: row.get(7)?,
    })
}

fn payment_from_row(row: &Row<'_>) -> rusqlite::Result<PaymentRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get::<_, i64>(2)?.max(0) as u64,
        row.get(3)?,
    ))
}

impl SqliteStore {
    /// The claims `filter` (a condition on `consumer_claims c`, with `?1` bound to
    /// `param`) selects, oldest first, with their payments.
    fn claims_where(&self, filter: &str, param: &str) -> Result<Vec<ConsumerClaim>> {
        if !self.claims_books {
            return Ok(Vec::new());
        }
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CLAIM_COLUMNS} FROM consumer_claims c WHERE {filter} ORDER BY at, claim"
            ))?
            .query_map([param], claim_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("reading claims")?;
        let payments = self
            .conn
            .prepare_cached(&format!(
                "SELECT p.claim, p.release, p.amount, p.at FROM claim_payments p
                 JOIN consumer_claims c ON c.claim = p.claim WHERE {filter}"
            ))?
            .query_map([param], payment_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("reading claim payments")?;
        Ok(claims::assemble(rows, payments))
    }
}

fn delivery_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        webhook: row.get(0)?,
        notice: row.get(1)?,
        attempts: row.get(2)?,
        last_attempt_at: row.get(3)?,
        last_result: row.get(4)?,
        delivered_at: row.get(5)?,
        next_attempt: row.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The journal's tables as SQLite describes them: every column (name, type, not null,
    /// default, key) and every index, by table.
    fn described(conn: &Connection) -> Vec<String> {
        let mut statement = conn
            .prepare(
                "SELECT m.type, m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk
                 FROM sqlite_master m LEFT JOIN pragma_table_info(m.name) p
                 WHERE m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
            )
            .unwrap();
        statement
            .query_map([], |row| {
                Ok(format!(
                    "{} {} {:?} {:?} {:?} {:?} {:?}",
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, Option<i64>>(6)?
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// A journal at each earlier version, recorded or made before versions were (version 0
    /// with the tables of that version), opens at this build's version with exactly the
    /// tables a new journal has; one at a later version is refused and left as it was.
    #[test]
    fn a_journal_at_each_earlier_schema_opens_at_this_one() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.db");
        drop(SqliteStore::open(&fresh).unwrap());
        let conn = Connection::open(&fresh).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), schema::VERSION);
        let expected = described(&conn);
        for version in 0..schema::VERSION {
            for recorded in [true, false] {
                let path = dir.path().join(format!("at-{version}-{recorded}.db"));
                let conn = Connection::open(&path).unwrap();
                for step in &STEPS[..version as usize] {
                    conn.execute_batch(step).unwrap();
                }
                if recorded {
                    conn.pragma_update(None, "user_version", version).unwrap();
                }
                drop(conn);
                drop(SqliteStore::open(&path).unwrap());
                let conn = Connection::open(&path).unwrap();
                assert_eq!(schema_version(&conn).unwrap(), schema::VERSION, "from {version}");
                assert_eq!(
                    described(&conn),
                    expected,
                    "from version {version} (recorded: {recorded})"
                );
            }
        }
        let later = dir.path().join("later.db");
        drop(SqliteStore::open(&later).unwrap());
        let conn = Connection::open(&later).unwrap();
        conn.pragma_update(None, "user_version", schema::VERSION + 1).unwrap();
        let before = described(&conn);
        drop(conn);
        // The bundle first: the others leave the files SQLite makes beside a live journal.
        for open in [SqliteStore::open_bundle, SqliteStore::open_read_only, SqliteStore::open] {
            let Err(error) = open(&later) else {
                panic!("a journal of a later version opened");
            };
            assert!(format!("{error:#}").contains("later than this build's"), "{error:#}");
        }
        let conn = Connection::open(&later).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), schema::VERSION + 1);
        assert_eq!(described(&conn), before);
    }
}
