//! The PostgreSQL store: the same tables as the SQLite journal, in a database that several
//! `prepaid serve` processes share. Per-wallet order comes from the journal's primary key
//! `(wallet, seq)`: of two processes racing for a wallet's next entry, the database lets
//! one insert it and gives the other a unique violation, which becomes an
//! [`Error::Conflict`].

mod config;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use postgres::config::SslMode;
use postgres::error::SqlState;
use postgres::{Client, NoTls, Row, Statement};

use config::tls_connector;
pub use config::PostgresConfig;

use crate::claims::{self, ClaimRow, ConsumerClaim, PaymentRow, Recorded, Release, Withheld};
use crate::clock::unix_now;
use crate::disputes::QueuedDispute;
use crate::envelope::rfc3339;
use crate::error::{Error, Result};
use crate::outcome::EffectRecord;
use crate::registry::Record;
use crate::signed::Leaf;
use crate::stats::{DayRow, Facts, Figures, Sale};
use crate::store::schema;
use crate::store::{
    ack_now, distinct, Ack, AckRecord, AckRow, Acknowledged, Entry, OutboxEffect, OutboxRow, Store, WalletHead,
    ACK_REFERENCE, DELIVERY_COLUMNS, UNHEADED,
};
use crate::webhooks::Delivery;

/// The store's schema, a step per version ([`schema::STEPS`] says what each adds): step N
/// takes a database at version N-1 to N. Each makes a table, an index or a column only
/// where it is missing, so that a database from before versions runs every step.
/// (`ALTER TABLE` and even `CREATE INDEX IF NOT EXISTS` lock their table when they change
/// nothing, which deadlocked appends when every connection ran them: they run only while
/// a database is behind.)
const STEPS: [&str; schema::STEPS.len()] = [
    "CREATE TABLE IF NOT EXISTS components (
         code_hash TEXT PRIMARY KEY,
         bytes     BYTEA NOT NULL
     );
     CREATE TABLE IF NOT EXISTS wallets (
         wallet     TEXT PRIMARY KEY,
         code_hash  TEXT NOT NULL REFERENCES components(code_hash),
         seq        BIGINT NOT NULL,
         state      BYTEA,
         state_hash TEXT NOT NULL,
         head_hash  TEXT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS journal (
         wallet     TEXT NOT NULL,
         seq        BIGINT NOT NULL,
         event_id   TEXT NOT NULL,
         event      TEXT NOT NULL,
         at         TEXT NOT NULL,
         code_hash  TEXT NOT NULL,
         outcome    TEXT NOT NULL,
         fuel       BIGINT NOT NULL,
         limits     BIGINT NOT NULL,
         state_hash TEXT NOT NULL,
         prev_hash  TEXT NOT NULL,
         entry_hash TEXT NOT NULL,
         PRIMARY KEY (wallet, seq),
         UNIQUE (wallet, event_id)
     );
     CREATE TABLE IF NOT EXISTS outbox (
         effect_id     TEXT PRIMARY KEY,
         wallet        TEXT NOT NULL,
         seq           BIGINT NOT NULL,
         kind          TEXT NOT NULL,
         recipient     TEXT NOT NULL,
         amount        TEXT NOT NULL,
         reason        TEXT NOT NULL,
         acked         BOOLEAN NOT NULL DEFAULT FALSE,
         FOREIGN KEY (wallet, seq) REFERENCES journal (wallet, seq)
     );
     CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (acked, wallet, seq);",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by TEXT,
                        ADD COLUMN IF NOT EXISTS claimed_until BIGINT;",
    "ALTER TABLE wallets ADD COLUMN IF NOT EXISTS next_due BIGINT;
     CREATE INDEX IF NOT EXISTS wallets_due ON wallets (next_due) WHERE next_due IS NOT NULL;",
    // Effects acknowledged before acknowledgements were recorded have no record: `verify`
    // names them.
    "ALTER TABLE wallets ADD COLUMN IF NOT EXISTS acks BIGINT NOT NULL DEFAULT 0,
                         ADD COLUMN IF NOT EXISTS ack_hash TEXT NOT NULL
                             DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';
     CREATE TABLE IF NOT EXISTS acks (
         wallet      TEXT NOT NULL,
         n           BIGINT NOT NULL,
         effect_id   TEXT NOT NULL UNIQUE,
         effect_hash TEXT NOT NULL,
         at          TEXT NOT NULL,
         prev_hash   TEXT NOT NULL,
         ack_hash    TEXT NOT NULL,
         PRIMARY KEY (wallet, n)
     );
     CREATE INDEX IF NOT EXISTS outbox_wallet ON outbox (wallet, effect_id);",
    "CREATE TABLE IF NOT EXISTS registry (
         n      BIGINT PRIMARY KEY,
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
         paid      BIGINT NOT NULL,
         released  BIGINT NOT NULL,
         refunded  BIGINT NOT NULL,
         opened    BIGINT NOT NULL,
         requests  BIGINT NOT NULL,
         refunds   BIGINT NOT NULL,
         disputes  BIGINT NOT NULL,
         pending   BIGINT NOT NULL,
         disputed  BIGINT NOT NULL,
         PRIMARY KEY (merchant, day)
     );",
    "CREATE TABLE IF NOT EXISTS deliveries (
         webhook         TEXT NOT NULL,
         notice          TEXT NOT NULL,
         attempts        BIGINT NOT NULL,
         last_attempt_at TEXT NOT NULL,
         last_result     TEXT NOT NULL,
         delivered_at    TEXT,
         next_attempt    BIGINT NOT NULL,
         PRIMARY KEY (webhook, notice)
     );
     CREATE TABLE IF NOT EXISTS holders (
         wallet   TEXT PRIMARY KEY,
         consumer TEXT NOT NULL
     );
     CREATE INDEX IF NOT EXISTS holders_consumer ON holders (consumer, wallet);",
    "ALTER TABLE acks ADD COLUMN IF NOT EXISTS reference TEXT;",
    "CREATE TABLE IF NOT EXISTS admission (
         one                 INTEGER PRIMARY KEY CHECK (one = 1),
         closure_notice_days BIGINT NOT NULL
     );",
    "CREATE TABLE IF NOT EXISTS waiting_migrations (
         wallet   TEXT PRIMARY KEY,
         event    TEXT NOT NULL,
         asked_at BIGINT NOT NULL
     );",
    "CREATE TABLE IF NOT EXISTS consumer_claims (
         claim    TEXT PRIMARY KEY,
         wallet   TEXT NOT NULL,
         merchant TEXT NOT NULL,
         consumer TEXT NOT NULL,
         amount   BIGINT NOT NULL,
         paid     BIGINT NOT NULL,
         reason   TEXT NOT NULL,
         at       BIGINT NOT NULL
     );
     CREATE INDEX IF NOT EXISTS consumer_claims_open ON consumer_claims (merchant, at, claim) WHERE paid < amount;
     CREATE INDEX IF NOT EXISTS consumer_claims_wallet ON consumer_claims (wallet, claim);
     CREATE TABLE IF NOT EXISTS claim_payments (
         release TEXT NOT NULL,
         claim   TEXT NOT NULL,
         amount  BIGINT NOT NULL,
         at      BIGINT NOT NULL,
         PRIMARY KEY (release, claim)
     );
     CREATE INDEX IF NOT EXISTS claim_payments_claim ON claim_payments (claim, release);
     ALTER TABLE stats ADD COLUMN IF NOT EXISTS unsupervised BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE stats ADD COLUMN IF NOT EXISTS owed BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE stats ADD COLUMN IF NOT EXISTS collected BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE stats ADD COLUMN IF NOT EXISTS unearned BIGINT NOT NULL DEFAULT 0;",
    // Filled from the wallets' states as the step runs (`schema::QUEUE_STEP`).
    "CREATE TABLE IF NOT EXISTS disputes (
         wallet     TEXT NOT NULL,
         request    TEXT NOT NULL,
         merchant   TEXT NOT NULL,
         consumer   TEXT NOT NULL,
         by_party   TEXT NOT NULL,
         reason     TEXT NOT NULL,
         evidence   TEXT,
         opened_at  BIGINT NOT NULL,
         ruling_due BIGINT,
         amount     TEXT NOT NULL,
         PRIMARY KEY (wallet, request)
     );
     CREATE INDEX IF NOT EXISTS disputes_due ON disputes (ruling_due, wallet, request);",
];

/// Replaces the queue's rows of `wallet` with `queue`: its disputes open now.
fn record_queue(tx: &mut impl postgres::GenericClient, wallet: &str, queue: &[QueuedDispute]) -> Result<()> {
    tx.execute("DELETE FROM disputes WHERE wallet = $1", &[&wallet])
        .with_context(|| format!("clearing the disputes of wallet {wallet} from the queue"))?;
    for dispute in queue {
        tx.execute(
            "INSERT INTO disputes (wallet, request, merchant, consumer, by_party, reason, evidence, opened_at,
                                   ruling_due, amount)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &dispute.wallet,
                &dispute.request.as_deref().unwrap_or_default(),
                &dispute.merchant,
                &dispute.consumer,
                &dispute.by,
                &dispute.reason,
                &dispute.evidence,
                &dispute.opened_at,
                &dispute.ruling_due,
                &dispute.amount,
            ],
        )
        .with_context(|| format!("queueing the disputes of wallet {wallet}"))?;
    }
    Ok(())
}

/// The database's schema version: 0 before versions were recorded (or before any table).
fn schema_version(client: &mut impl postgres::GenericClient) -> Result<u32> {
    let recorded: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .context("reading the store's schema version")?
        .get(0);
    if !recorded {
        return Ok(0);
    }
    // The largest, so that a row too many (written by hand) cannot lock the store out.
    let version: Option<i32> = client
        .query_one("SELECT max(version) FROM schema_version", &[])
        .and_then(|row| row.try_get(0))
        .context("reading the store's schema version")?;
    Ok(version.map_or(0, |version| u32::try_from(version).unwrap_or(0)))
}

/// Brings the database to [`schema::VERSION`] (see [`schema`]) in one transaction, under
/// a lock that makes processes starting together migrate one at a time (the later ones
/// find it done). A database at the version costs two reads and no lock.
fn migrate(client: &mut Client) -> Result<()> {
    if schema_version(client)? == schema::VERSION {
        return Ok(());
    }
    // Read committed whatever the server's default: each statement then sees what was
    // committed before it, so the version read after the lock is the one the process that
    // held the lock wrote (under repeatable read, the snapshot would predate it).
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::ReadCommitted)
        .start()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    for step in schema::pending(schema_version(&mut tx)?, "the PostgreSQL store")? {
        tx.batch_execute(STEPS[step])
            .with_context(|| format!("migrating the store: {}", schema::STEPS[step]))?;
        if step == schema::QUEUE_STEP {
            let heads: Vec<(String, Vec<u8>)> = tx
                .query("SELECT wallet, state FROM wallets WHERE state IS NOT NULL", &[])
                .context("reading the wallets' states to queue their disputes")?
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            for (wallet, state) in heads {
                record_queue(&mut tx, &wallet, &crate::disputes::of_state(&wallet, &state))?;
            }
        }
    }
    let version = i32::try_from(schema::VERSION).expect("a handful of versions");
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL); DELETE FROM schema_version;",
    )?;
    tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&version])?;
    tx.commit().context("migrating the store")?;
    Ok(())
}

/// Any number, so that processes starting together migrate the schema one at a time.
const SCHEMA_LOCK: i64 = 0x0070_7265_7061_6964;
/// Another, so that acknowledgements are made one at a time.
const ACK_LOCK: i64 = 0x0061_636b_6e6f_776c;

const ENTRY_COLUMNS: &str =
    "wallet, seq, event_id, event, at, code_hash, outcome, fuel, limits, state_hash, prev_hash, entry_hash";
const EFFECT_COLUMNS: &str = "effect_id, wallet, seq, kind, recipient, amount, reason";

/// One connection to a PostgreSQL store.
pub struct PostgresStore {
    // `postgres::Client` needs `&mut` even to read; reads of the store interface take
    // `&self`, and a store is used by one thread at a time.
    client: RefCell<Client>,
    // The statements on the path of every event, prepared once per connection: an
    // unprepared query costs an extra round trip to the server.
    statements: RefCell<HashMap<String, Statement>>,
}

impl PostgresStore {
    /// Connects to the database `config` names and brings its tables to this build's
    /// schema version.
    pub fn connect(config: &PostgresConfig) -> Result<PostgresStore> {
        let place = config.place();
        let mut pg: postgres::Config = config
            .url()
            .parse()
            .with_context(|| format!("reading the PostgreSQL URL for {place}"))?;
        let client = match config.tls_ca() {
            Some(ca) => pg.ssl_mode(SslMode::Require).connect(tls_connector(ca)?),
            None => pg.connect(NoTls),
        };
        let mut client = client.with_context(|| format!("connecting to PostgreSQL at {place}"))?;
        migrate(&mut client)?;
        Ok(PostgresStore {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// Whether this connection is encrypted, as the server sees it.
    pub fn is_encrypted(&self) -> Result<bool> {
        let row = self
            .client
            .borrow_mut()
            .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
            .context("asking the server about this connection")?;
        Ok(row.get(0))
    }

    /// `sql`, prepared on this connection once.
    fn prepared(&self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.borrow_mut().prepare(sql).context("preparing a statement")?;
        self.statements.borrow_mut().insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Creates the database `name` (dropping any of that name first) on the server that
/// `admin_url` reaches, and returns the URL of the new database. For setting up and for
/// tests (over a plain connection); `name` must be a plain identifier.
pub fn create_database(admin_url: &str, name: &str) -> Result<String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(anyhow!("a database name is lower-case letters, digits and underscores, got {name:?}").into());
    }
    // A plain connection: this is for setting up and for tests, on a trusted network.
    let place = PostgresConfig::new(admin_url).place();
    let mut client =
        Client::connect(admin_url, NoTls).with_context(|| format!("connecting to PostgreSQL at {place}"))?;
    // Not in one batch: neither statement may run inside a transaction block.
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .with_context(|| format!("creating the database {name}"))?;
    let (server, _) = admin_url
        .rsplit_once('/')
        .with_context(|| format!("the URL for {place} does not end in /database"))?;
    Ok(format!("{server}/{name}"))
}

/// The statements an append that records or pays claims runs after the entry's.
struct ClaimStatements {
    record: Statement,
    open: Statement,
    pay: Statement,
    paid: Statement,
    collected: Statement,
}

impl ClaimStatements {
    fn prepare(store: &PostgresStore) -> Result<ClaimStatements> {
        Ok(ClaimStatements {
            record: store.prepared(
                "INSERT INTO consumer_claims (claim, wallet, merchant, consumer, amount, paid, reason, at)
                 VALUES ($1, $2, COALESCE($3, (SELECT merchant FROM sales WHERE wallet = $2), ''), $4, $5, 0, $6, $7)",
            )?,
            // Locked: two releases of one merchant committing at once pay each claim once.
            open: store.prepared(
                "SELECT claim, amount - paid FROM consumer_claims WHERE merchant = $1 AND paid < amount
                 ORDER BY at, claim FOR UPDATE",
            )?,
            pay: store.prepared("INSERT INTO claim_payments (release, claim, amount, at) VALUES ($1, $2, $3, $4)")?,
            paid: store.prepared("UPDATE consumer_claims SET paid = paid + $2 WHERE claim = $1")?,
            collected: store.prepared(
                "INSERT INTO stats (merchant, day, paid, released, refunded, opened, requests, refunds, disputes,
                                    pending, disputed, collected)
                 VALUES ($1, $2, 0, 0, 0, 0, 0, 0, 0, 0, 0, $3)
                 ON CONFLICT (merchant, day) DO UPDATE SET collected = stats.collected + EXCLUDED.collected",
            )?,
        })
    }

    /// Records the claims `recorded` on the wallet's merchant and pays each of `releases`'
    /// merchant's open claims out of it, oldest first, counting what they paid in the
    /// merchant's figures for the day.
    fn record(
        &self,
        tx: &mut postgres::Transaction<'_>,
        entry: &Entry,
        recorded: &[Recorded],
        releases: &[Release],
        facts: &Facts,
    ) -> Result<()> {
        let at = crate::envelope::timestamp(&entry.at)?;
        for claim in recorded {
            tx.execute(
                &self.record,
                &[
                    &claim.claim,
                    &entry.wallet,
                    &facts.merchant,
                    &claim.to,
                    &to_i64(claim.fen),
                    &claim.reason,
                    &at,
                ],
            )
            .with_context(|| format!("recording claim {}", claim.claim))?;
        }
        for release in releases {
            let open: Vec<(String, u64)> = tx
                .query(&self.open, &[&release.to])
                .context("reading a merchant's open claims")?
                .iter()
                .map(|row| (row.get(0), to_u64(row.get(1))))
                .collect();
            let mut collected = 0;
            for (claim, fen) in claims::allocate(release.fen, &open) {
                tx.execute(&self.pay, &[&release.release, &claim, &to_i64(fen), &at])
                    .context("paying a claim")?;
                tx.execute(&self.paid, &[&claim, &to_i64(fen)])
                    .context("paying a claim")?;
                collected += fen;
            }
            if collected > 0 {
                tx.execute(&self.collected, &[&release.to, &facts.day, &to_i64(collected)])
                    .context("counting what a release paid of claims")?;
            }
        }
        Ok(())
    }
}

fn claim_from(row: &Row) -> ClaimRow {
    ClaimRow {
        claim: row.get(0),
        wallet: row.get(1),
        merchant: row.get(2),
        consumer: row.get(3),
        amount: to_u64(row.get(4)),
        paid: to_u64(row.get(5)),
        reason: row.get(6),
        at: row.get(7),
    }
}

impl PostgresStore {
    /// The claims `filter` (a condition on `consumer_claims c`, with `$1` bound to
    /// `param`) selects, oldest first, with their payments.
    fn claims_where(&self, filter: &str, param: &str) -> Result<Vec<ConsumerClaim>> {
        let mut client = self.client.borrow_mut();
        let rows = client
            .query(
                &format!(
                    "SELECT claim, wallet, merchant, consumer, amount, paid, reason, at FROM consumer_claims c
                     WHERE {filter} ORDER BY at, claim"
                ),
                &[&param],
            )
            .context("reading claims")?;
        let payments: Vec<PaymentRow> = client
            .query(
                &format!(
                    "SELECT p.claim, p.release, p.amount, p.at FROM claim_payments p
                     JOIN consumer_claims c ON c.claim = p.claim WHERE {filter}"
                ),
                &[&param],
            )
            .context("reading claim payments")?
            .iter()
            .map(|row| (row.get(0), row.get(1), to_u64(row.get(2)), row.get(3)))
            .collect();
        Ok(claims::assemble(rows.iter().map(claim_from).collect(), payments))
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

fn entry_from(row: &Row) -> Entry {
    Entry {
        wallet: row.get(0),
        seq: to_u64(row.get(1)),
        event_id: row.get(2),
        event: row.get(3),
        at: row.get(4),
        code_hash: row.get(5),
        outcome: row.get(6),
        fuel: to_u64(row.get(7)),
        limits: u32::try_from(row.get::<_, i64>(8)).unwrap_or(u32::MAX),
        state_hash: row.get(9),
        prev_hash: row.get(10),
        entry_hash: row.get(11),
    }
}

fn effect_from(row: &Row) -> OutboxEffect {
    effect_from_at(row, 0)
}

/// The effect whose columns ([`EFFECT_COLUMNS`]) start at column `at` of `row`.
fn effect_from_at(row: &Row, at: usize) -> OutboxEffect {
    OutboxEffect {
        effect_id: row.get(at),
        wallet: row.get(at + 1),
        seq: to_u64(row.get(at + 2)),
        kind: row.get(at + 3),
        to: row.get(at + 4),
        amount: row.get(at + 5),
        reason: row.get(at + 6),
    }
}

impl Store for PostgresStore {
    fn transaction(&mut self, work: &mut dyn FnMut(&mut dyn Store) -> Result<()>) -> Result<()> {
        // Each append is its own transaction here: writers of several processes append
        // side by side, and a group would hold its rows locked for longer.
        work(self)
    }

    fn put_component(&mut self, code_hash: &str, bytes: &[u8]) -> Result<()> {
        self.client
            .get_mut()
            .execute(
                "INSERT INTO components (code_hash, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&code_hash, &bytes],
            )
            .context("storing a component")?;
        Ok(())
    }

    fn component(&self, code_hash: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT bytes FROM components WHERE code_hash = $1", &[&code_hash])
            .context("reading a component")?;
        Ok(row.map(|row| row.get(0)))
    }

    fn components(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let rows = self
            .client
            .borrow_mut()
            .query("SELECT code_hash, bytes FROM components ORDER BY code_hash", &[])
            .context("reading components")?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    fn wallet(&self, wallet: &str) -> Result<Option<WalletHead>> {
        let statement = self.prepared(
            "SELECT wallet, code_hash, seq, state, state_hash, head_hash, next_due, acks, ack_hash
             FROM wallets WHERE wallet = $1",
        )?;
        let row = self
            .client
            .borrow_mut()
            .query_opt(&statement, &[&wallet])
            .with_context(|| format!("reading wallet {wallet}"))?;
        Ok(row.map(|row| WalletHead {
            wallet: row.get(0),
            code_hash: row.get(1),
            seq: to_u64(row.get(2)),
            state: row.get(3),
            state_hash: row.get(4),
            head_hash: row.get(5),
            next_due: row.get(6),
            acks: to_u64(row.get(7)),
            ack_hash: row.get(8),
        }))
    }

    fn leaves(&self) -> Result<Vec<Leaf>> {
        let rows = self
            .client
            .borrow_mut()
            .query("SELECT wallet, seq, head_hash, acks, ack_hash FROM wallets", &[])
            .context("reading the wallets' heads")?;
        Ok(rows
            .iter()
            .map(|row| Leaf {
                wallet: row.get(0),
                seq: to_u64(row.get(1)),
                head_hash: row.get(2),
                acks: to_u64(row.get(3)),
                ack_hash: row.get(4),
            })
            .collect())
    }

    fn unheaded(&self) -> Result<Vec<String>> {
        let rows = self
            .client
            .borrow_mut()
            .query(UNHEADED, &[])
            .context("looking for rows without a head")?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn outbox(&self, wallet: &str) -> Result<Vec<OutboxRow>> {
        let statement = self.prepared(&format!(
            "SELECT {EFFECT_COLUMNS}, acked FROM outbox WHERE wallet = $1 ORDER BY effect_id"
        ))?;
        let rows = self
            .client
            .borrow_mut()
            .query(&statement, &[&wallet])
            .with_context(|| format!("reading the outbox of wallet {wallet}"))?;
        Ok(rows
            .iter()
            .map(|row| OutboxRow {
                effect: effect_from(row),
                acked: row.get(7),
            })
            .collect())
    }

    fn acks(&self, wallet: &str) -> Result<Vec<AckRecord>> {
        let statement = self.prepared(
            "SELECT wallet, n, effect_id, effect_hash, at, prev_hash, ack_hash, reference FROM acks
             WHERE wallet = $1 ORDER BY n",
        )?;
        let rows = self
            .client
            .borrow_mut()
            .query(&statement, &[&wallet])
            .with_context(|| format!("reading the acknowledgements of wallet {wallet}"))?;
        Ok(rows
            .iter()
            .map(|row| AckRecord {
                wallet: row.get(0),
                n: to_u64(row.get(1)),
                effect_id: row.get(2),
                effect_hash: row.get(3),
                at: row.get(4),
                prev_hash: row.get(5),
                ack_hash: row.get(6),
                reference: row.get(7),
            })
            .collect())
    }

    fn wallets(&self) -> Result<Vec<String>> {
        let rows = self
            .client
            .borrow_mut()
            .query("SELECT wallet FROM wallets ORDER BY wallet", &[])
            .context("listing wallets")?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn entry_by_event_id(&self, wallet: &str, event_id: &str) -> Result<Option<Entry>> {
        let statement = self.prepared(&format!(
            "SELECT {ENTRY_COLUMNS} FROM journal WHERE wallet = $1 AND event_id = $2"
        ))?;
        let row = self
            .client
            .borrow_mut()
            .query_opt(&statement, &[&wallet, &event_id])
            .context("looking up an event id")?;
        Ok(row.as_ref().map(entry_from))
    }

    fn entries(&self, wallet: &str) -> Result<Vec<Entry>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                &format!("SELECT {ENTRY_COLUMNS} FROM journal WHERE wallet = $1 ORDER BY seq"),
                &[&wallet],
            )
            .with_context(|| format!("reading the journal of wallet {wallet}"))?;
        Ok(rows.iter().map(entry_from).collect())
    }

    fn due_wallets(&self, now: i64, limit: usize, skip: &[String]) -> Result<Vec<String>> {
        let statement = self.prepared(
            "SELECT wallet FROM wallets WHERE next_due <= $1 AND NOT (code_hash = ANY($3)) \
             ORDER BY next_due, wallet LIMIT $2",
        )?;
        let rows = self
            .client
            .borrow_mut()
            .query(&statement, &[&now, &i64::try_from(limit).unwrap_or(i64::MAX), &skip])
            .context("listing the wallets due")?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn append(
        &mut self,
        entry: &Entry,
        state: Option<&[u8]>,
        next_due: Option<i64>,
        effects: &[EffectRecord],
        facts: &Facts,
    ) -> Result<()> {
        // One statement: the entry, its effects, the wallet's new head, its merchant's and
        // consumer's indexes and figures are written together or not at all. (The outbox's foreign key to the entry is checked at the
        // end of the statement.) A wallet opened before merchants were indexed has no
        // figures to add to.
        let append = self.prepared(&format!(
            "WITH entry AS (
                 INSERT INTO journal ({ENTRY_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 RETURNING wallet, seq
             ), effects AS (
                 INSERT INTO outbox ({EFFECT_COLUMNS})
                 SELECT effect.id, entry.wallet, entry.seq, effect.kind, effect.recipient, effect.amount, effect.reason
                 FROM entry, unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
                      AS effect (id, kind, recipient, amount, reason)
             ), sale AS (
                 INSERT INTO sales (wallet, merchant, listing, opened_at)
                 SELECT entry.wallet, $20, $21, $5 FROM entry WHERE $20::text IS NOT NULL
             ), holder AS (
                 INSERT INTO holders (wallet, consumer)
                 SELECT entry.wallet, $33 FROM entry WHERE $33::text IS NOT NULL
                 ON CONFLICT (wallet) DO UPDATE SET consumer = EXCLUDED.consumer
             ), figures AS (
                 INSERT INTO stats (merchant, day, paid, released, refunded, opened, requests, refunds, disputes,
                                    pending, disputed, unsupervised, owed, unearned)
                 SELECT $30, $22, $23, $24, $25, $26, $27, $28, $29, $31, $32, $34, $35, $36 FROM entry
                 WHERE $30::text IS NOT NULL
                 ON CONFLICT (merchant, day) DO UPDATE SET paid = stats.paid + EXCLUDED.paid,
                     released = stats.released + EXCLUDED.released, refunded = stats.refunded + EXCLUDED.refunded,
                     opened = stats.opened + EXCLUDED.opened, requests = stats.requests + EXCLUDED.requests,
                     refunds = stats.refunds + EXCLUDED.refunds, disputes = stats.disputes + EXCLUDED.disputes,
                     pending = stats.pending + EXCLUDED.pending, disputed = stats.disputed + EXCLUDED.disputed,
                     unsupervised = stats.unsupervised + EXCLUDED.unsupervised, owed = stats.owed + EXCLUDED.owed,
                     unearned = stats.unearned + EXCLUDED.unearned
             )
             INSERT INTO wallets (wallet, code_hash, seq, state, state_hash, head_hash, next_due)
             SELECT entry.wallet, $6, entry.seq, $18, $10, $12, $19 FROM entry
             ON CONFLICT (wallet) DO UPDATE SET code_hash = EXCLUDED.code_hash, seq = EXCLUDED.seq, state = EXCLUDED.state,
                 state_hash = EXCLUDED.state_hash, head_hash = EXCLUDED.head_hash, next_due = EXCLUDED.next_due"
        ))?;
        let paid: Vec<(usize, &EffectRecord)> = effects
            .iter()
            .enumerate()
            .filter(|(_, effect)| effect.moves_money())
            .collect();
        let column = |field: fn(&EffectRecord) -> &String| -> Vec<&str> {
            paid.iter().map(|(_, effect)| field(effect).as_str()).collect()
        };
        let ids: Vec<String> = paid.iter().map(|(index, _)| entry.effect_id(*index)).collect();
        let (kinds, recipients, amounts, reasons) = (
            column(|effect| &effect.kind),
            column(|effect| &effect.to),
            column(|effect| &effect.amount),
            column(|effect| &effect.reason),
        );
        let (seq, fuel, limits) = (to_i64(entry.seq), to_i64(entry.fuel), i64::from(entry.limits));
        let figures = &facts.figures;
        let counts = [
            figures.paid,
            figures.released,
            figures.refunded,
            figures.opened,
            figures.requests,
            figures.refunds,
            figures.disputes,
            figures.unsupervised,
            figures.owed,
        ]
        .map(to_i64);
        let sale = facts.sale.as_ref();
        let (sale_merchant, sale_listing) = (
            sale.map(|sale| sale.merchant.as_str()),
            sale.and_then(|sale| sale.listing.as_deref()),
        );
        let merchant = facts.merchant.as_deref().filter(|_| !figures.is_zero());
        let params: [&(dyn postgres::types::ToSql + Sync); 36] = [
            &entry.wallet,
            &seq,
            &entry.event_id,
            &entry.event,
            &entry.at,
            &entry.code_hash,
            &entry.outcome,
            &fuel,
            &limits,
            &entry.state_hash,
            &entry.prev_hash,
            &entry.entry_hash,
            &ids,
            &kinds,
            &recipients,
            &amounts,
            &reasons,
            &state,
            &next_due,
            &sale_merchant,
            &sale_listing,
            &facts.day,
            &counts[0],
            &counts[1],
            &counts[2],
            &counts[3],
            &counts[4],
            &counts[5],
            &counts[6],
            &merchant,
            &figures.pending,
            &figures.disputed,
            &facts.holder,
            &counts[7],
            &counts[8],
            &figures.unearned,
        ];
        let conflict_or = |error: postgres::Error| match error.code() {
            Some(&SqlState::UNIQUE_VIOLATION) => Error::Conflict {
                wallet: entry.wallet.clone(),
                seq: entry.seq,
            },
            _ => anyhow::Error::new(error)
                .context(format!("appending entry {} of wallet {}", entry.seq, entry.wallet))
                .into(),
        };
        // An entry that records claims or releases money pays claims too, which takes a
        // transaction (the claims it pays are locked until it commits); any other entry is
        // one statement, so one round trip.
        // An entry that changes the wallet's disputes rewrites its rows of the queue in the
        // same transaction.
        let (recorded, releases) = claims::of_entry(entry, effects)?;
        if recorded.is_empty() && releases.is_empty() && facts.queue.is_none() {
            self.client.get_mut().execute(&append, &params).map_err(conflict_or)?;
            return Ok(());
        }
        let statements = ClaimStatements::prepare(self)?;
        let mut tx = self.client.get_mut().transaction().context("starting an append")?;
        tx.execute(&append, &params).map_err(conflict_or)?;
        statements.record(&mut tx, entry, &recorded, &releases, facts)?;
        if let Some(queue) = &facts.queue {
            record_queue(&mut tx, &entry.wallet, queue)?;
        }
        tx.commit()
            .context("committing an entry, its claims and its disputes")?;
        Ok(())
    }

    fn registry_append(&mut self, record: &Record) -> Result<()> {
        let json = serde_json::to_string(record).context("writing a registry record")?;
        let inserted = self.client.get_mut().execute(
            "INSERT INTO registry (n, record) VALUES ($1, $2)",
            &[&to_i64(record.n), &json],
        );
        match inserted {
            Ok(_) => Ok(()),
            Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(Error::Conflict {
                wallet: "(registry)".into(),
                seq: record.n,
            }),
            Err(error) => Err(anyhow::Error::new(error).context("appending to the registry").into()),
        }
    }

    fn registry_since(&self, after: u64) -> Result<Vec<Record>> {
        let rows = self
            .client
            .borrow_mut()
            .query("SELECT record FROM registry WHERE n > $1 ORDER BY n", &[&to_i64(after)])
            .context("reading the registry")?;
        rows.iter()
            .map(|row| Ok(serde_json::from_str(row.get(0)).context("reading a registry record")?))
            .collect()
    }

    fn delivery(&self, webhook: &str, notice: &str) -> Result<Option<Delivery>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt(
                &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE webhook = $1 AND notice = $2"),
                &[&webhook, &notice],
            )
            .context("reading a webhook delivery")?;
        Ok(row.as_ref().map(delivery_from_row))
    }

    fn record_delivery(&mut self, delivery: &Delivery) -> Result<()> {
        self.client
            .get_mut()
            .execute(
                &format!(
                    "INSERT INTO deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (webhook, notice) DO UPDATE SET attempts = EXCLUDED.attempts,
                         last_attempt_at = EXCLUDED.last_attempt_at, last_result = EXCLUDED.last_result,
                         delivered_at = EXCLUDED.delivered_at, next_attempt = EXCLUDED.next_attempt"
                ),
                &[
                    &delivery.webhook,
                    &delivery.notice,
                    &i64::from(delivery.attempts),
                    &delivery.last_attempt_at,
                    &delivery.last_result,
                    &delivery.delivered_at,
                    &delivery.next_attempt,
                ],
            )
            .context("recording a webhook delivery")?;
        Ok(())
    }

    fn deliveries(&self, webhook: &str, limit: usize) -> Result<Vec<Delivery>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE webhook = $1
                     ORDER BY last_attempt_at DESC, notice LIMIT $2"
                ),
                &[&webhook, &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .context("reading a webhook's deliveries")?;
        Ok(rows.iter().map(delivery_from_row).collect())
    }

    fn holdings(&self, consumer: &str) -> Result<Vec<String>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT wallet FROM holders WHERE consumer = $1 ORDER BY wallet",
                &[&consumer],
            )
            .context("listing a consumer's wallets")?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn sales_of(&self, merchant: &str) -> Result<Vec<String>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT wallet FROM sales WHERE merchant = $1 ORDER BY wallet",
                &[&merchant],
            )
            .context("listing a merchant's wallets")?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn holder_of(&self, wallet: &str) -> Result<Option<String>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT consumer FROM holders WHERE wallet = $1", &[&wallet])
            .context("reading a wallet's consumer")?;
        Ok(row.map(|row| row.get(0)))
    }

    fn listed_only(&self) -> Result<Option<u32>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT closure_notice_days FROM admission", &[])
            .context("reading the platform's admission")?;
        row.map(|row| u32::try_from(row.get::<_, i64>(0)).map_err(|_| Error::fault("a closure notice beyond u32 days")))
            .transpose()
    }

    fn set_listed_only(&mut self, closure_notice_days: u32) -> Result<()> {
        self.client
            .get_mut()
            .execute(
                "INSERT INTO admission (one, closure_notice_days) VALUES (1, $1)
                 ON CONFLICT (one) DO UPDATE SET closure_notice_days = EXCLUDED.closure_notice_days",
                &[&i64::from(closure_notice_days)],
            )
            .context("recording the platform's admission")?;
        Ok(())
    }

    fn waiting_migration(&self, wallet: &str) -> Result<Option<(String, i64)>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT event, asked_at FROM waiting_migrations WHERE wallet = $1",
                &[&wallet],
            )
            .context("reading a waiting migration")?;
        Ok(row.map(|row| (row.get(0), row.get(1))))
    }

    fn set_waiting_migration(&mut self, wallet: &str, waiting: Option<(&str, i64)>) -> Result<()> {
        let client = self.client.get_mut();
        match waiting {
            Some((event, asked_at)) => client.execute(
                "INSERT INTO waiting_migrations (wallet, event, asked_at) VALUES ($1, $2, $3)
                 ON CONFLICT (wallet) DO UPDATE SET event = EXCLUDED.event, asked_at = EXCLUDED.asked_at",
                &[&wallet, &event, &asked_at],
            ),
            None => client.execute("DELETE FROM waiting_migrations WHERE wallet = $1", &[&wallet]),
        }
        .context("recording a waiting migration")?;
        Ok(())
    }

    fn merchant_of(&self, wallet: &str) -> Result<Option<String>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT merchant FROM sales WHERE wallet = $1", &[&wallet])
            .context("reading a wallet's merchant")?;
        Ok(row.map(|row| row.get(0)))
    }

    fn claims_of(&self, wallet: &str) -> Result<Vec<ConsumerClaim>> {
        self.claims_where("c.wallet = $1", wallet)
    }

    fn open_disputes(&self) -> Result<Vec<QueuedDispute>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT wallet, request, merchant, consumer, by_party, reason, evidence, opened_at, ruling_due, amount
                 FROM disputes ORDER BY ruling_due NULLS LAST, wallet, request",
                &[],
            )
            .context("reading the disputes' queue")?;
        Ok(rows
            .iter()
            .map(|row| QueuedDispute {
                wallet: row.get(0),
                request: Some(row.get::<_, String>(1)).filter(|request| !request.is_empty()),
                merchant: row.get(2),
                consumer: row.get(3),
                by: row.get(4),
                reason: row.get(5),
                evidence: row.get(6),
                opened_at: row.get(7),
                ruling_due: row.get(8),
                amount: row.get(9),
            })
            .collect())
    }

    fn open_claims(&self) -> Result<Vec<ConsumerClaim>> {
        self.claims_where("c.paid < c.amount AND $1::text = $1::text", "")
    }

    fn withheld(&self, releases: &[String]) -> Result<Vec<Withheld>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT p.release, p.claim, c.consumer, p.amount, c.merchant FROM claim_payments p
                 JOIN consumer_claims c ON c.claim = p.claim WHERE p.release = ANY($1)
                 ORDER BY p.release, c.at, p.claim",
                &[&releases],
            )
            .context("reading what releases pay of claims")?;
        Ok(rows
            .iter()
            .map(|row| Withheld {
                release: row.get(0),
                claim: row.get(1),
                to: row.get(2),
                amount: crate::text::yuan(to_u64(row.get(3))),
                merchant: row.get(4),
            })
            .collect())
    }

    fn unindexed(&self) -> Result<Vec<String>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT wallet FROM wallets WHERE NOT EXISTS (SELECT 1 FROM sales WHERE sales.wallet = wallets.wallet)
                     OR (state IS NOT NULL
                         AND NOT EXISTS (SELECT 1 FROM holders WHERE holders.wallet = wallets.wallet))
                 ORDER BY wallet",
                &[],
            )
            .context("listing the wallets not indexed")?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn index_holder(&mut self, wallet: &str, consumer: &str) -> Result<()> {
        self.client
            .get_mut()
            .execute(
                "INSERT INTO holders (wallet, consumer) VALUES ($1, $2) ON CONFLICT (wallet) DO NOTHING",
                &[&wallet, &consumer],
            )
            .with_context(|| format!("indexing wallet {wallet} under its consumer"))?;
        Ok(())
    }

    fn index_sale(&mut self, wallet: &str, sale: &Sale, opened_at: &str) -> Result<()> {
        self.client
            .get_mut()
            .execute(
                "INSERT INTO sales (wallet, merchant, listing, opened_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (wallet) DO NOTHING",
                &[&wallet, &sale.merchant, &sale.listing, &opened_at],
            )
            .with_context(|| format!("indexing wallet {wallet} under its merchant"))?;
        Ok(())
    }

    fn sales_after(&self, merchant: &str, at: &str) -> Result<u64> {
        // At or after: a sale in the very second of the notice is one too many.
        let row = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT count(*) FROM sales WHERE merchant = $1 AND opened_at >= $2",
                &[&merchant, &at],
            )
            .context("counting a merchant's sales")?;
        Ok(to_u64(row.get(0)))
    }

    fn day_rows(&self, to: Option<&str>) -> Result<Vec<DayRow>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT merchant, day, paid, released, refunded, opened, requests, refunds, disputes, pending, disputed,
                        unsupervised, owed, collected, unearned
                 FROM stats WHERE $1::text IS NULL OR day <= $1 ORDER BY day, merchant",
                &[&to],
            )
            .context("reading the statistics")?;
        Ok(rows
            .iter()
            .map(|row| DayRow {
                merchant: row.get(0),
                day: row.get(1),
                figures: Figures {
                    paid: to_u64(row.get(2)),
                    released: to_u64(row.get(3)),
                    refunded: to_u64(row.get(4)),
                    opened: to_u64(row.get(5)),
                    requests: to_u64(row.get(6)),
                    refunds: to_u64(row.get(7)),
                    disputes: to_u64(row.get(8)),
                    pending: row.get(9),
                    disputed: row.get(10),
                    unsupervised: to_u64(row.get(11)),
                    owed: to_u64(row.get(12)),
                    collected: to_u64(row.get(13)),
                    unearned: row.get(14),
                },
            })
            .collect())
    }

    fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEffect>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {EFFECT_COLUMNS} FROM outbox WHERE NOT acked ORDER BY wallet, seq, effect_id LIMIT $1"
                ),
                &[&to_i64(limit as u64)],
            )
            .context("reading the outbox")?;
        Ok(rows.iter().map(effect_from).collect())
    }

    fn claim_effects(&mut self, claimant: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxEffect>> {
        let now = unix_now();
        let until = now.saturating_add(to_i64(lease.as_secs()));
        // SKIP LOCKED: adapters claiming at the same moment take different rows instead of
        // waiting for each other or taking the same ones.
        let rows = self
            .client
            .get_mut()
            .query(
                &format!(
                    "UPDATE outbox SET claimed_by = $1, claimed_until = $2 WHERE effect_id IN (
                         SELECT effect_id FROM outbox
                         WHERE NOT acked AND (claimed_until IS NULL OR claimed_until < $3)
                         ORDER BY wallet, seq, effect_id LIMIT $4
                         FOR UPDATE SKIP LOCKED)
                     RETURNING {EFFECT_COLUMNS}"
                ),
                &[&claimant, &until, &now, &to_i64(limit as u64)],
            )
            .context("claiming effects")?;
        let mut claimed: Vec<OutboxEffect> = rows.iter().map(effect_from).collect();
        claimed.sort_by(|a, b| (&a.wallet, a.seq, &a.effect_id).cmp(&(&b.wallet, b.seq, &b.effect_id)));
        Ok(claimed)
    }

    fn ack_effects(&mut self, acks: &[Ack], claim: Option<&str>) -> Result<Acknowledged> {
        let listed = distinct(acks)?;
        let mut tx = self.client.get_mut().transaction()?;
        let (mut counts, now) = (Acknowledged::default(), unix_now());
        let at = rfc3339(now)?;
        // One acknowledgement at a time: each takes its outbox rows, then moves their
        // wallets' chains; two taking them in different orders could deadlock.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ACK_LOCK])?;
        for (id, reference) in listed {
            let row = tx
                .query_opt(
                    &format!(
                        "SELECT acked, claimed_by, claimed_until, {ACK_REFERENCE}, {EFFECT_COLUMNS} FROM outbox
                         WHERE effect_id = $1 FOR UPDATE"
                    ),
                    &[&id],
                )?
                .map(|row| AckRow {
                    acked: row.get(0),
                    holder: row.get(1),
                    until: row.get(2),
                    reference: row.get(3),
                    effect: effect_from_at(&row, 4),
                });
            let effect = row.as_ref().map(|row| row.effect.clone());
            if let (true, Some(effect)) = (ack_now(id, row, reference, claim, now)?, effect) {
                let head = tx
                    .query_opt(
                        "SELECT acks, ack_hash FROM wallets WHERE wallet = $1 FOR UPDATE",
                        &[&effect.wallet],
                    )?
                    .ok_or_else(|| Error::UnknownEffect(id.to_owned()))?;
                let record = AckRecord::next(&effect, reference, to_u64(head.get(0)), head.get(1), &at);
                tx.execute(
                    "INSERT INTO acks (wallet, n, effect_id, effect_hash, at, prev_hash, ack_hash, reference)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &record.wallet,
                        &to_i64(record.n),
                        &record.effect_id,
                        &record.effect_hash,
                        &record.at,
                        &record.prev_hash,
                        &record.ack_hash,
                        &record.reference,
                    ],
                )?;
                tx.execute(
                    "UPDATE wallets SET acks = $2, ack_hash = $3 WHERE wallet = $1",
                    &[&record.wallet, &to_i64(record.n), &record.ack_hash],
                )?;
                tx.execute("UPDATE outbox SET acked = TRUE WHERE effect_id = $1", &[&id])?;
                counts.newly += 1;
            } else {
                counts.already += 1;
            }
        }
        tx.commit().context("acknowledging effects")?;
        Ok(counts)
    }

    fn is_broken(&self) -> bool {
        self.client.borrow().is_closed()
    }
}

fn delivery_from_row(row: &Row) -> Delivery {
    Delivery {
        webhook: row.get(0),
        notice: row.get(1),
        attempts: u32::try_from(row.get::<_, i64>(2)).unwrap_or(u32::MAX),
        last_attempt_at: row.get(3),
        last_result: row.get(4),
        delivered_at: row.get(5),
        next_attempt: row.get(6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's tables as the catalog describes them: every column (type, nullable,
    /// default) and every index, in order.
    fn described(client: &mut Client) -> Vec<String> {
        let columns = client
            .query(
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text,
                        coalesce(column_default::text, '')
                 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name <> 'schema_version'
                 ORDER BY 1, 2",
                &[],
            )
            .unwrap();
        let indexes = client
            .query(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname",
                &[],
            )
            .unwrap();
        columns
            .iter()
            .map(|row| (0..5).map(|i| row.get::<_, String>(i)).collect::<Vec<_>>().join(" "))
            .chain(indexes.iter().map(|row| row.get::<_, String>(0)))
            .collect()
    }

    /// A database at each earlier version, recorded or made before versions were (no
    /// `schema_version`, with the tables of that version), opens at this build's version
    /// with exactly the tables a new database has; one at a later version is refused.
    /// Needs the server `cargo xtask test` starts (`PREPAID_TEST_POSTGRES`).
    #[test]
    fn a_database_at_each_earlier_schema_opens_at_this_one() {
        let admin = std::env::var("PREPAID_TEST_POSTGRES")
            .expect("PREPAID_TEST_POSTGRES: run the tests with `cargo xtask test`, which starts a server");
        let database = |name: &str| {
            let url = create_database(&admin, &format!("schema_{name}_{}", std::process::id())).unwrap();
            (PostgresConfig::new(url.clone()), Client::connect(&url, NoTls).unwrap())
        };
        let (config, mut client) = database("fresh");
        drop(PostgresStore::connect(&config).unwrap());
        assert_eq!(schema_version(&mut client).unwrap(), schema::VERSION);
        let expected = described(&mut client);
        for version in 0..schema::VERSION {
            for recorded in [true, false] {
                let (config, mut client) = database(&format!("at_{version}_{recorded}"));
                for step in &STEPS[..version as usize] {
                    client.batch_execute(step).unwrap();
                }
                if recorded {
                    client
                        .batch_execute(&format!(
                            "CREATE TABLE schema_version (version INTEGER NOT NULL); \
                             INSERT INTO schema_version VALUES ({version})"
                        ))
                        .unwrap();
                }
                drop(PostgresStore::connect(&config).unwrap());
                assert_eq!(schema_version(&mut client).unwrap(), schema::VERSION, "from {version}");
                assert_eq!(
                    described(&mut client),
                    expected,
                    "from version {version} (recorded: {recorded})"
                );
            }
        }
        // A row too many, as an operator might write by hand, locks nobody out.
        let (config, mut client) = database("two_rows");
        drop(PostgresStore::connect(&config).unwrap());
        client.batch_execute("INSERT INTO schema_version VALUES (1)").unwrap();
        drop(PostgresStore::connect(&config).unwrap());
        assert_eq!(schema_version(&mut client).unwrap(), schema::VERSION);
        let (config, mut client) = database("later");
        client
            .batch_execute(&format!(
                "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES ({})",
                schema::VERSION + 1
            ))
            .unwrap();
        let Err(error) = PostgresStore::connect(&config) else {
            panic!("a database of a later version opened");
        };
        assert!(format!("{error:#}").contains("later than this build's"), "{error:#}");
        assert!(described(&mut client).is_empty());
    }

    /// A connection string's password stays out of errors and debug output, which reach
    /// logs and, through them, more people than the database's owner.
    #[test]
    fn the_password_stays_out_of_errors_and_debug_output() {
        let config = PostgresConfig::new("postgres://app:s3cret@127.0.0.1:1/prepaid");
        let Err(error) = PostgresStore::connect(&config) else {
            panic!("nothing listens on port 1");
        };
        let Err(setup) = create_database("postgres://app:s3cret@127.0.0.1:1/postgres", "prepaid") else {
            panic!("nothing listens on port 1");
        };
        let shown = format!("{error:#} {config:?} {setup:#}");
        assert!(shown.contains("127.0.0.1:1/prepaid"), "{shown}");
        assert!(!shown.contains("s3cret") && !shown.contains("app"), "{shown}");
    }
}
