//! The command line: every subcommand and its arguments, as clap reads them.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use prepaid_host::store::postgres::PostgresConfig;
use prepaid_host::{Clock, ContractEngine, Ledger, StoreConfig};

/// Supervised prepaid consumer funds on a WebAssembly contract.
#[derive(Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Runs the bundled example into a SQLite journal and shows the wallets and the
    /// verification of their history.
    Demo {
        /// The journal to write (replaced if present).
        #[arg(long, default_value = "prepaid-demo.db")]
        db: PathBuf,
        #[command(flatten)]
        component: ComponentArg,
        #[command(flatten)]
        cache: CacheArg,
    },
    /// Scenario files.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    /// Replays every wallet of a journal with its pinned code and compares everything.
    /// Exits non-zero on any divergence.
    #[command(group = clap::ArgGroup::new("source").required(true))]
    Verify(VerifyArgs),
    /// Writes a signed checkpoint of every wallet's head (`--db`, `--key`, `--out`), or
    /// checks that a later checkpoint extends an earlier one (`check`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Checkpoint(CheckpointArgs),
    /// Receipts the service gives for every event it journals.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Applies raw signed events (JSON lines, from FILE or stdin) and prints a JSON line
    /// per event. Re-submitting an event returns its recorded outcome.
    Apply {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// The events (default: stdin).
        file: Option<PathBuf>,
        /// Commits this many events at a time (group commit); each is acknowledged once
        /// its batch is on disk.
        #[arg(long, default_value_t = 1)]
        batch: usize,
        #[command(flatten)]
        admission: AdmissionArgs,
        #[command(flatten)]
        component: ComponentArg,
        #[command(flatten)]
        cache: CacheArg,
    },
    /// Ticks, by this machine's clock, every wallet whose rules of time (deemed
    /// confirmation, a membership's days, expiry, a re-key) have fallen due, and prints a
    /// JSON line per tick. `prepaid serve` does this itself.
    Tick {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// The most wallets to tick.
        #[arg(long, default_value_t = 10_000)]
        limit: usize,
        #[command(flatten)]
        cache: CacheArg,
    },
    /// Creates a key pair: the secret goes to a new file, the public key is printed.
    Keygen {
        /// The key file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Signs raw events read from stdin (JSON lines) and prints them signed.
    Sign {
        /// The signer's key file.
        #[arg(long)]
        key: PathBuf,
        /// Adds the regulator's approval of the terms to each `open`, instead of signing.
        #[arg(long)]
        approve: bool,
    },
    /// The regulator's signed decisions, as the service's review and closure routes take
    /// them (printed as the request body).
    Regulator {
        #[command(subcommand)]
        command: RegulatorCommand,
    },
    /// Prints the unsigned `open` by which a consumer buys a listing read from stdin (as
    /// GET /v1/listings/{id} gives it); sign it with `prepaid sign --key CONSUMER.key`.
    Buy {
        /// The consumer's public key (hex), or a file holding it.
        #[arg(long)]
        consumer: String,
        /// The new wallet's id.
        #[arg(long)]
        wallet: String,
        /// The open's event id.
        #[arg(long, default_value = "open")]
        id: String,
    },
    /// The regulator's statistics of a journal: paid, frozen, released, refunded, and
    /// counts of wallets, requests, refunds and disputes.
    Stats {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// The first day counted (YYYY-MM-DD, China Standard Time).
        #[arg(long)]
        from: Option<String>,
        /// The last day counted.
        #[arg(long)]
        to: Option<String>,
        /// Only this merchant (public key).
        #[arg(long)]
        merchant: Option<String>,
        /// Only this industry: dental, fitness, education, beauty, other.
        #[arg(long)]
        industry: Option<String>,
        /// Only this district.
        #[arg(long)]
        district: Option<String>,
        /// A line per: total, merchant, industry, district, day.
        #[arg(long, default_value = "total")]
        group_by: String,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
    },
    /// Holds a payment rail's statement against the journal and the outbox, and names
    /// every difference: fundings and payments on one side and not the other, other
    /// amounts or recipients, payments made twice, acknowledgements with no payment behind
    /// them. Exits 1 if there is any.
    Reconcile {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// The rail's statement: JSON lines, `{"kind": "funding", "wallet", "reference",
        /// "amount"}` or `{"kind": "release" | "refund", "effect_id", "to", "amount",
        /// "reference"}` (the README, "Reconciling with the rail").
        statement: PathBuf,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
    },
    /// Shows a wallet: its figures, pinned code and journal.
    Wallet {
        /// The wallet.
        id: String,
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        cache: CacheArg,
    },
    /// The effects waiting for the payment rail.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Journals.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Measures the standard event mix: native rules, the component in memory, the
    /// component with the SQLite journal, and verify; prints events/s and ratios.
    Bench(BenchArgs),
    /// Contract components.
    Contract {
        #[command(subcommand)]
        command: ContractCommand,
    },
    /// Moves live wallets onto new code: the plan a regulator reads before signing.
    Migrate {
        #[command(subcommand)]
        command: MigrateCommand,
    },
    /// Serves the HTTP API for platforms (see /openapi.json), on the SQLite journal by
    /// default or on PostgreSQL, which several `prepaid serve` processes can share.
    Serve(ServeArgs),
    /// Drives running `prepaid serve` processes with the standard event mix from many
    /// clients and prints events/s and latency percentiles.
    Loadtest {
        /// A service to send to; give it more than once to alternate between services,
        /// event by event, on the same wallets.
        #[arg(long = "url", required = true)]
        urls: Vec<String>,
        /// An operator API key.
        #[arg(long, env = "PREPAID_API_KEY")]
        key: String,
        /// A regulator API key: the run approves the workload's merchant and listing
        /// (signed with the dev regulator key, which the services' trust file must list).
        #[arg(long, env = "PREPAID_REGULATOR_API_KEY")]
        regulator_key: String,
        /// The API key of the workload's merchant (the dev key `merchant`): the run
        /// registers it and lists its product.
        #[arg(long, env = "PREPAID_MERCHANT_API_KEY")]
        merchant_key: String,
        /// How many wallets (seven events each).
        #[arg(long, default_value_t = 500)]
        wallets: usize,
        /// Clients sending at once.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Runs for this many seconds on new wallets (instead of `--wallets`), reporting
        /// throughput and latency second by second.
        #[arg(long)]
        seconds: Option<u64>,
        /// Prints the measurement as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The arguments of `prepaid verify`.
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// A journal.
    #[arg(long, group = "source")]
    pub(crate) db: Option<PathBuf>,
    /// A bundle written by `prepaid journal export`.
    #[arg(long, group = "source")]
    pub(crate) bundle: Option<PathBuf>,
    /// Prints the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also names every wallet outside this trust file (a regulator or component it
    /// does not list), and exits non-zero if there is any.
    #[arg(long)]
    pub(crate) trust: Option<PathBuf>,
    /// Loads compiled components from this folder instead of compiling them. Verify
    /// compiles afresh unless given this (`PREPAID_CACHE` does not count): a cached
    /// artifact is native code, which an auditor should not take on trust.
    #[arg(long)]
    pub(crate) cache: Option<PathBuf>,
    /// Also holds the journal to this checkpoint (`prepaid checkpoint`): every wallet it
    /// lists must still be there, at least as long, with the same entry at its seq and
    /// the same acknowledgement at its count. Needs --platform-key.
    #[arg(long, requires = "platform_key")]
    pub(crate) checkpoint: Option<PathBuf>,
    /// The platform's public key (64 hex digits), which must have signed the
    /// checkpoint; with --bundle alone, the checkpoint proofs the bundle carries. With
    /// --bundle, --checkpoint may be the checkpoint's note alone (the bundle's proofs
    /// must lead to it), and a bundle answers only for the wallets it holds.
    #[arg(long, value_parser = parse_platform_key)]
    pub(crate) platform_key: Option<ed25519_dalek::VerifyingKey>,
    /// Fails on any wallet that runs code other than this (a component's code hash);
    /// repeat it to allow several.
    #[arg(long = "expect-code-hash", value_name = "CODE_HASH")]
    pub(crate) expect_code_hash: Vec<String>,
    /// Fails unless the journal holds this wallet (repeat it for several): what a
    /// bundle was asked for must be in it.
    #[arg(long)]
    pub(crate) wallet: Vec<String>,
}

/// The arguments of `prepaid checkpoint`.
#[derive(clap::Args)]
pub(crate) struct CheckpointArgs {
    #[command(subcommand)]
    pub(crate) command: Option<CheckpointCommand>,
    /// The journal.
    #[arg(long, required = true)]
    pub(crate) db: Option<PathBuf>,
    /// The platform's key file (`prepaid keygen`).
    #[arg(long, required = true)]
    pub(crate) key: Option<PathBuf>,
    /// The checkpoint file to write (must not exist).
    #[arg(long, required = true)]
    pub(crate) out: Option<PathBuf>,
}

/// The arguments of `prepaid bench`.
#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// How many wallets (seven events each).
    #[arg(long, default_value_t = 2000)]
    pub(crate) wallets: usize,
    /// Runs of each path; the fastest counts.
    #[arg(long, default_value_t = 5)]
    pub(crate) rounds: usize,
    /// Also measures group-commit throughput and memory on a journal of 1,000 wallets
    /// and on one of this many (1000000 takes minutes).
    #[arg(long)]
    pub(crate) scale: Option<usize>,
    /// Also measures closing a merchant with this many wallets holding money (100000
    /// takes minutes).
    #[arg(long)]
    pub(crate) closure: Option<usize>,
    /// Also measures moving this many wallets onto the component `--migrate-to`: its plan,
    /// the regulator's migrations, and `verify` across the change (100000 takes minutes).
    #[arg(long, requires = "migrate_to")]
    pub(crate) migration: Option<usize>,
    /// The component `--migration` moves the wallets onto.
    #[arg(long, requires = "migration")]
    pub(crate) migrate_to: Option<std::path::PathBuf>,
    /// Prints the measurements as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) component: ComponentArg,
}

/// The store a command runs on: the SQLite journal, or a PostgreSQL database.
#[derive(clap::Args)]
pub(crate) struct StoreArgs {
    /// The SQLite journal (the default store).
    #[arg(long, default_value = "prepaid.db", conflicts_with = "postgres")]
    db: PathBuf,
    /// A PostgreSQL database instead, as postgres://user@host:port/db.
    #[arg(long, env = "PREPAID_POSTGRES")]
    postgres: Option<String>,
    /// Connects to PostgreSQL over TLS only, trusting the certificate authorities in
    /// this PEM file (for example /etc/ssl/certs/ca-certificates.crt). Without it the
    /// connection is plain: keep the database on a trusted network.
    #[arg(long, env = "PREPAID_POSTGRES_CA", requires = "postgres")]
    postgres_ca: Option<PathBuf>,
}

impl StoreArgs {
    /// The store the arguments name.
    pub(crate) fn config(self) -> StoreConfig {
        match self.postgres {
            Some(url) => StoreConfig::Postgres(match self.postgres_ca {
                Some(ca) => PostgresConfig::new(url).with_tls_ca(ca),
                None => PostgresConfig::new(url),
            }),
            None => StoreConfig::Sqlite(self.db),
        }
    }
}

/// The arguments of `prepaid serve`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: std::net::SocketAddr,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The API keys file: a JSON list of {"key", "role", "name", "merchant"?}.
    #[arg(long, env = "PREPAID_KEYS")]
    pub(crate) keys: PathBuf,
    #[command(flatten)]
    pub(crate) admission: AdmissionArgs,
    /// The most connections this process opens to its store; requests beyond wait for
    /// a free one, and are answered `busy` if none frees in 30 s.
    #[arg(long, env = "PREPAID_MAX_CONNECTIONS", default_value_t = prepaid_host::DEFAULT_MAX_CONNECTIONS)]
    pub(crate) max_connections: usize,
    /// How often, in seconds, to tick the wallets whose rules of time (deemed
    /// confirmation, a membership's days, expiry, a re-key) have fallen due.
    #[arg(long, default_value_t = prepaid_host::service::DEFAULT_TICK_EVERY.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) tick_every: u64,
    /// The platform's key file (`prepaid keygen`): it signs a receipt for every event
    /// journaled and the checkpoints of every wallet's head.
    #[arg(long, env = "PREPAID_PLATFORM_KEY")]
    pub(crate) platform_key: PathBuf,
    /// How often, in seconds, to sign a checkpoint of every wallet's head (served at
    /// GET /v1/checkpoint).
    #[arg(long, default_value_t = prepaid_host::service::DEFAULT_CHECKPOINT_EVERY.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) checkpoint_every: u64,
    /// The days of notice a merchant's closure must give (the regulation's 30 in
    /// Shanghai and Beijing); lower only for drills and tests.
    #[arg(long, default_value_t = prepaid_host::registry::DEFAULT_CLOSURE_NOTICE_DAYS)]
    pub(crate) closure_notice_days: u32,
    #[command(flatten)]
    pub(crate) component: ComponentArg,
    #[command(flatten)]
    pub(crate) cache: CacheArg,
}

#[derive(Subcommand)]
pub(crate) enum RegulatorCommand {
    /// Approves the listing read from stdin (as GET /v1/listings/{id} gives it) until a
    /// time: prints the body of POST /v1/listings/{id}/review, with the signed approval.
    Approve {
        /// The regulator's key file.
        #[arg(long)]
        key: PathBuf,
        /// The last time the approval lets a sale open (RFC 3339, UTC).
        #[arg(long)]
        until: String,
        /// Why.
        #[arg(long, default_value = "terms within the rules")]
        reason: String,
    },
    /// Closes a merchant from a time on: prints the body of
    /// POST /v1/merchants/{merchant}/closure, with the signed closure.
    Close {
        /// The regulator's key file.
        #[arg(long)]
        key: PathBuf,
        /// The merchant's public key (hex).
        #[arg(long)]
        merchant: String,
        /// When the closure takes effect (RFC 3339, UTC): at least the platform's notice
        /// ahead (30 days).
        #[arg(long)]
        on: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Runs a scenario file, printing a JSON line per step. Exits non-zero when an
    /// `expect` fails.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// A SQLite journal to write (default: a temporary one).
        #[arg(long)]
        db: Option<PathBuf>,
        /// A golden trace (per step: outcome, effects, state hash, fuel) the run must
        /// match; exits non-zero with a diff when it does not.
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// Writes the run's trace to `--snapshot` instead of checking it, accepting a
        /// change.
        #[arg(long, requires = "snapshot")]
        update_snapshot: bool,
        #[command(flatten)]
        component: ComponentArg,
        #[command(flatten)]
        cache: CacheArg,
    },
}

#[derive(Subcommand)]
pub(crate) enum CheckpointCommand {
    /// Confirms that NEW extends OLD: both signed by the platform key, and each wallet's
    /// head (and acknowledgements) at OLD lying in its history at NEW, as the journal
    /// shows it. What an auditor runs on every new checkpoint.
    #[command(group = clap::ArgGroup::new("source").required(true))]
    Check {
        /// The earlier checkpoint file.
        old: PathBuf,
        /// The later checkpoint file.
        new: PathBuf,
        /// The platform's public key (64 hex digits).
        #[arg(long, value_parser = parse_platform_key)]
        platform_key: ed25519_dalek::VerifyingKey,
        /// The journal.
        #[arg(long, group = "source")]
        db: Option<PathBuf>,
        /// A bundle written by `prepaid journal export`.
        #[arg(long, group = "source")]
        bundle: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ReceiptCommand {
    /// Says whether the bundle holds exactly the entry a receipt is for: signed by the
    /// platform key, the same wallet, seq, event, time and hash, and a hash chain that
    /// leads to it. Exits non-zero if not.
    #[command(group = clap::ArgGroup::new("source").required(true))]
    Check {
        /// The receipt (the signed note the service returned).
        receipt: PathBuf,
        /// A bundle written by `prepaid journal export`.
        #[arg(long, group = "source")]
        bundle: Option<PathBuf>,
        /// A journal.
        #[arg(long, group = "source")]
        db: Option<PathBuf>,
        /// The platform's public key (64 hex digits).
        #[arg(long, value_parser = parse_platform_key)]
        platform_key: ed25519_dalek::VerifyingKey,
    },
}

/// A platform public key, as clap reads one.
fn parse_platform_key(text: &str) -> Result<ed25519_dalek::VerifyingKey> {
    prepaid_host::signed::platform_key(text)
}

#[derive(Subcommand)]
pub(crate) enum OutboxCommand {
    /// Lists effects not yet acknowledged, as JSON lines, oldest first.
    List {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Acknowledges effects the payment rail has carried out.
    Ack {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// Effect ids, as `list` prints them.
        #[arg(required = true)]
        effect_ids: Vec<String>,
        /// The token of the claim that holds them (a payment adapter's, from
        /// `POST /v1/outbox/claim`). Without one, only effects under no live claim can be
        /// acknowledged.
        #[arg(long)]
        claim: Option<String>,
        /// The rail's reference for the payment that carried out the one effect listed,
        /// recorded in its acknowledgement for `reconcile` (the service's adapters must
        /// give one; by hand, an effect acknowledged without one is held to the rail's
        /// statement by its id alone).
        #[arg(long)]
        reference: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum JournalCommand {
    /// Writes a self-contained bundle for an auditor: the journal entries of one wallet
    /// (or all) and every component they pin, by code hash.
    Export {
        /// The journal.
        #[arg(long)]
        db: PathBuf,
        /// Only this wallet.
        #[arg(long)]
        wallet: Option<String>,
        /// The bundle to write (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Puts in the bundle the proof, from this checkpoint, of each wallet it holds.
        /// Needs --platform-key.
        #[arg(long, requires = "platform_key")]
        checkpoint: Option<PathBuf>,
        /// The platform's public key (64 hex digits), which must have signed the checkpoint.
        #[arg(long, value_parser = parse_platform_key)]
        platform_key: Option<ed25519_dalek::VerifyingKey>,
    },
}

#[derive(Subcommand)]
pub(crate) enum MigrateCommand {
    /// What moving every live wallet onto a component would change, before anyone signs:
    /// each wallet's figures and what the consumer and the merchant would get from a
    /// refund now, at expiry and at the merchant's closure, old code against new, and the
    /// wallets whose consumer would get less. Writes nothing.
    Plan {
        #[command(flatten)]
        store: StoreArgs,
        /// The component the wallets would move to.
        #[arg(long)]
        to: PathBuf,
        /// Prints the plan as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        cache: CacheArg,
    },
    /// Moves the wallets a plan foresees onto its component, each by a `migrate` signed
    /// with the regulator's key and naming the plan: a wallet whose consumer would get less
    /// waits for their consent (they are told), the others move now. Prints what became of
    /// each wallet that did not move, and the time it took.
    Run {
        #[command(flatten)]
        store: StoreArgs,
        /// The plan the regulator read, as `prepaid migrate plan --json` printed it.
        #[arg(long)]
        plan: PathBuf,
        /// The plan's hash as the regulator read it (the first line of `prepaid migrate
        /// plan`, or the API's `hash`): a file whose content differs is refused before
        /// anything is signed.
        #[arg(long)]
        hash: String,
        /// The component the plan moves the wallets to.
        #[arg(long)]
        to: PathBuf,
        /// The regulator's key file: the wallets' regulator signs their migrations.
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        admission: AdmissionArgs,
        #[command(flatten)]
        cache: CacheArg,
    },
}

#[derive(clap::Subcommand)]
pub(crate) enum ContractCommand {
    /// Prints a component's code hash (SHA-256, hex).
    Hash {
        /// The component file.
        file: PathBuf,
    },
}

#[derive(clap::Args)]
pub(crate) struct CacheArg {
    /// Keeps compiled contract components in this folder, so later runs start without
    /// compiling.
    #[arg(long = "cache", id = "cache", env = "PREPAID_CACHE")]
    dir: Option<PathBuf>,
}

impl CacheArg {
    /// The contract engine, with the artifact cache when one is asked for.
    pub(crate) fn engine(&self) -> Result<ContractEngine> {
        engine(self.dir.as_deref())
    }
}

/// The contract engine, with the artifact cache in `cache` if given.
pub(crate) fn engine(cache: Option<&std::path::Path>) -> Result<ContractEngine> {
    let engine = ContractEngine::new()?;
    match cache {
        Some(dir) => Ok(engine.with_cache(dir)?),
        None => Ok(engine),
    }
}

/// How events from outside are admitted, the same for `prepaid apply` and `prepaid serve`:
/// by the trust file, and by the catalogue on a journal that sells only listings.
#[derive(clap::Args)]
pub(crate) struct AdmissionArgs {
    /// The trust file (required): {"regulators": [{"key", "name", "region"}],
    /// "components": ["<code hash>"]}: the regulators whose approval an `open` may carry
    /// and the components wallets may open on (`prepaid contract hash FILE`).
    #[arg(long, env = "PREPAID_TRUST")]
    trust: Option<PathBuf>,
}

impl AdmissionArgs {
    /// The trust file, read before anything is opened: refused if none is given.
    pub(crate) fn trust(&self) -> Result<prepaid_host::Trust> {
        let Some(path) = &self.trust else {
            anyhow::bail!(
                "events from outside are admitted by a trust file: give --trust FILE (or PREPAID_TRUST), \
                 the regulators whose approval an `open` may carry and the components wallets may open on. \
                 Without it, anyone who can hand in an `open` could name their own key as regulator and \
                 approve their own terms."
            );
        };
        Ok(prepaid_host::Trust::load(path)?)
    }

    /// `ledger`, admitting by `trust`: refused if the component new wallets open on is not
    /// in it. A journal set to sell only listings (by `prepaid serve`) is checked against
    /// the catalogue too, by the ledger itself.
    pub(crate) fn admit(ledger: Ledger, trust: prepaid_host::Trust) -> Result<Ledger> {
        let current = ledger.current().unwrap_or_default();
        if !trust.trusts_component(&current) {
            anyhow::bail!(
                "the component {current} is not in the trust file, so no wallet could be opened; \
                 add its code hash to `components` or run a listed one"
            );
        }
        Ok(ledger.with_trust(trust))
    }
}

#[derive(clap::Args)]
pub(crate) struct ComponentArg {
    /// The contract component that new wallets are opened with.
    #[arg(long = "component", env = "PREPAID_COMPONENT", default_value_os_t = prepaid_host::component_path())]
    path: PathBuf,
}

impl ComponentArg {
    pub(crate) fn bytes(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.path).with_context(|| {
            format!(
                "reading the contract component {} (build it with `cargo xtask contract`)",
                self.path.display()
            )
        })
    }

    /// A ledger over `store` on `clock` with this component installed.
    pub(crate) fn ledger(&self, store: StoreConfig, engine: ContractEngine, clock: Clock) -> Result<Ledger> {
        let ledger = Ledger::open(store, engine)?.with_clock(clock);
        ledger.install(&self.bytes()?)?;
        Ok(ledger)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// clap's own consistency checks (unique argument ids, valid groups), which otherwise
    /// fail only when a command is run.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
