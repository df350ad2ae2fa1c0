//! The wasmtime engine, configured for determinism, and the contract component on it.
//!
//! Determinism: NaN canonicalization, no threads (wasmtime is built without the `threads`
//! feature, so shared memories cannot even be compiled), no relaxed SIMD, a fixed wasm stack,
//! fuel metering with a fixed per-event limit, and a memory cap per instance. The linker
//! offers only the WIT world's imports (crypto and diagnostics): no WASI, no clock, no
//! randomness. Each event runs in a fresh instance, so nothing survives between calls but
//! the state bytes the host passes in.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use wasmtime::component::{Component, Linker};
// wasmtime 48 has its own error type; its `Context` adds context to wasmtime and std
// results, which `?` then turns into `anyhow` errors.
use wasmtime::error::Context as _;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimitsBuilder,
};

use prepaid_contract::keys::PublicKey;
use prepaid_contract::money::Amount;

use crate::outcome::{sha256_hex, EffectRecord, Outcome, WalletView};
use crate::rules::Rules;
use abi::{CallState, Called, Instance, Pre, Returned};

mod abi;
mod traps;

use traps::classify_trap;
pub use traps::{trap_class, TrapClass};

/// The version of the execution limits below, recorded in every journal entry. Fuel and
/// traps depend on the limits, so they may only change under a new version, and replay
/// refuses entries recorded under another.
pub const LIMITS_VERSION: u32 = 1;
/// Fuel one event may use, instantiation included: over 60 times what the rules use
/// today (14,000 to 150,000 per event in the scenario files).
pub const FUEL_PER_EVENT: u64 = 10_000_000;
/// Linear memory one instance may grow to.
pub const MEMORY_PER_INSTANCE: usize = 32 << 20;
/// Native stack wasm code may use.
pub const MAX_WASM_STACK: usize = 512 << 10;
/// The most bytes an accepted event may return (state plus effects): more is recorded as
/// `output_too_large`, so a runaway contract cannot bloat the journal.
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// Bytes of each pooled memory and table kept resident between instances.
const KEEP_RESIDENT: usize = 1 << 20;
/// Instances the pooling allocator keeps slots for: one per event running at once.
const POOLED_INSTANCES: u32 = 64;

/// Refuses a cache folder or file (`what` at `path`) that another user owns or may write:
/// what is in it is native code this process would run.
fn private(metadata: &std::fs::Metadata, what: &str, path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let user = unsafe { libc::geteuid() };
    if metadata.uid() != user {
        bail!(
            "{what} {} belongs to user {}, not to this process's user {user}: compiled components \
             there are native code this process would run, so it must be this user's own",
            path.display(),
            metadata.uid()
        );
    }
    if metadata.mode() & 0o022 != 0 {
        bail!(
            "{what} {} may be written by other users (mode {:o}): compiled components there are \
             native code this process would run; delete it (what is in it cannot be trusted) and \
             let a new one be made",
            path.display(),
            metadata.mode() & 0o777
        );
    }
    Ok(())
}

/// The bytes of the cached artifact at `path`, if there is one: opened without following
/// a symbolic link, and checked on the open file to be this user's alone.
fn read_private(path: &Path) -> Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => bail!("opening the cached {}: {error}", path.display()),
    };
    private(&file.metadata()?, "the cached artifact", path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// The engine and linker every contract component runs on, with an optional on-disk
/// cache of compiled components.
pub struct ContractEngine {
    engine: Engine,
    linker: Linker<CallState>,
    cache: Option<PathBuf>,
}

impl ContractEngine {
    /// An engine configured for deterministic execution.
    pub fn new() -> Result<ContractEngine> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .cranelift_nan_canonicalization(true)
            .wasm_relaxed_simd(false)
            .max_wasm_stack(MAX_WASM_STACK)
            // Fast instantiation: slots reused from a pool, memories initialized
            // copy-on-write from the compiled image, no async machinery per store.
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling()))
            .memory_init_cow(true)
            .concurrency_support(false);
        let engine = Engine::new(&config).context("configuring wasmtime")?;
        let linker = abi::linker(&engine).context("linking the host imports")?;
        Ok(ContractEngine {
            engine,
            linker,
            cache: None,
        })
    }

    /// Keeps compiled components in `dir`, keyed by code hash and the engine's
    /// compatibility hash, so a warm start compiles nothing.
    ///
    /// A cached artifact is native code this process runs as it finds it, so the folder
    /// must be private to this process's user: created with mode 0700 when missing, and
    /// refused, with the reason, when another user owns it or others may write to it.
    pub fn with_cache(mut self, dir: &Path) -> Result<ContractEngine> {
        use std::os::unix::fs::DirBuilderExt as _;
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("creating the cache {}", dir.display()))?;
        }
        let metadata = std::fs::metadata(dir).with_context(|| format!("reading the cache {}", dir.display()))?;
        if !metadata.is_dir() {
            bail!("the cache {} is not a folder", dir.display());
        }
        private(&metadata, "the cache", dir)?;
        self.cache = Some(dir.to_path_buf());
        Ok(self)
    }

    /// Where the compiled form of `code_hash` is cached for this engine.
    fn cached_artifact(&self, code_hash: &str) -> Option<PathBuf> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash = hasher.finish();
        self.cache
            .as_ref()
            .map(|dir| dir.join(format!("{code_hash}-{engine_hash:016x}.cwasm")))
    }

    /// Compiles `bytes`, or loads their compiled form from the cache.
    fn compile(&self, code_hash: &str, bytes: &[u8]) -> wasmtime::Result<Component> {
        let Some(artifact) = self.cached_artifact(code_hash) else {
            return Component::new(&self.engine, bytes);
        };
        // The folder and the file must still be this user's alone when they are read
        // (checked on the open file, not the name), so what runs is what this user's
        // engines wrote.
        let checked = |artifact: &Path| -> Result<Option<Vec<u8>>> {
            if let Some(dir) = artifact.parent() {
                private(&std::fs::metadata(dir)?, "the cache", dir)?;
            }
            read_private(artifact)
        };
        let cached = checked(&artifact).map_err(|error| wasmtime::Error::msg(format!("{error:#}")))?;
        if let Some(bytes) = cached {
            // SAFETY: the bytes come from a file only this user can have written, into a
            // folder only this user can write to, and only this program's engines write
            // there, from components they compiled themselves (written whole, then renamed
            // into place); an artifact wasmtime finds incompatible is an error, and is then
            // recompiled.
            if let Ok(component) = unsafe { Component::deserialize(&self.engine, &bytes) } {
                return Ok(component);
            }
        }
        let compiled = self.engine.precompile_component(bytes)?;
        // A name of this writer's own: processes and threads sharing the cache may compile
        // the same component at once, and each renames its own whole file into place. Made
        // new (never opened if it exists, so never through a link, and never truncating a
        // file another writer is filling: two writers on one name, as processes of two
        // containers may be, leave the cache to the first), and removed on any failure.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let partial = artifact.with_extension(format!(
            "{}-{}.partial",
            std::process::id(),
            WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let cached = (|| -> std::io::Result<()> {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            // This user's alone, whatever the umask: the next load checks that it is.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&partial)?;
            file.write_all(&compiled)?;
            std::fs::rename(&partial, &artifact)
        })();
        match cached {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                let _ = std::fs::remove_file(&partial);
                return Err(error).with_context(|| format!("caching {}", artifact.display()));
            }
        }
        // SAFETY: as above; these are the bytes just produced by `precompile_component`.
        unsafe { Component::deserialize(&self.engine, &compiled) }
    }

    /// Compiles a contract component, refusing one that imports anything outside the WIT
    /// world (naming the import). Its ABI is the newest whose imports and exports it has.
    pub fn load(&self, bytes: &[u8]) -> Result<WasmContract> {
        let code_hash = sha256_hex(bytes);
        let component = self
            .compile(&code_hash, bytes)
            .with_context(|| format!("component {code_hash} is not a valid WebAssembly component"))?;
        let imports: Vec<String> = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let offered = |version: &str| {
            let allowed = abi::allowed_imports(version);
            imports.iter().all(|name| allowed.contains(name))
        };
        if let Some(name) = imports.iter().find(|name| {
            !Pre::VERSIONS
                .iter()
                .any(|version| abi::allowed_imports(version).contains(name))
        }) {
            bail!(
                "component {code_hash} imports `{name}`, which the contract world does not offer \
                 (a contract may import only {})",
                abi::allowed_imports(Pre::VERSIONS[0]).join(", ")
            );
        }
        let linked = self
            .linker
            .instantiate_pre(&component)
            .with_context(|| format!("component {code_hash} does not fit the contract world"))?;
        let mut lacking = None;
        for version in Pre::VERSIONS.into_iter().filter(|version| offered(version)) {
            match Pre::new(version, linked.clone()) {
                Ok(pre) => {
                    return Ok(WasmContract {
                        code_hash,
                        engine: self.engine.clone(),
                        pre,
                    })
                }
                Err(error) => lacking = lacking.or(Some(error)),
            }
        }
        let error = lacking.unwrap_or_else(|| wasmtime::format_err!("its imports mix ABI versions"));
        Err(error
            .context(format!("component {code_hash} lacks the contract's exports"))
            .into())
    }
}

/// A compiled contract component, ready to run one event per fresh instance.
pub struct WasmContract {
    code_hash: String,
    engine: Engine,
    pre: Pre,
}

impl WasmContract {
    /// The component's code hash: the SHA-256 of its bytes, hex.
    pub fn code_hash(&self) -> &str {
        &self.code_hash
    }

    /// The contract ABI the component was built on ("0.2.0", "0.3.0").
    pub fn abi(&self) -> &'static str {
        self.pre.version()
    }

    /// A fresh store and instance with the fixed fuel and memory limits.
    fn instantiate(&self, signatures: Signatures) -> Result<(Store<CallState>, Box<dyn Instance>)> {
        let limits = StoreLimitsBuilder::new().memory_size(MEMORY_PER_INSTANCE).build();
        let mut store = Store::new(
            &self.engine,
            CallState {
                limits,
                abort_message: None,
                assume_signed: signatures == Signatures::Assumed,
            },
        );
        store.limiter(|state| &mut state.limits);
        store.set_fuel(FUEL_PER_EVENT)?;
        let instance = self.pre.instantiate(&mut store).context("instantiating the contract")?;
        Ok((store, instance))
    }

    /// The outcome of a call that returns a new state: accepted, rejected, or a trap.
    fn outcome(store: &Store<CallState>, called: Called<Returned>) -> Result<Outcome> {
        let fuel = FUEL_PER_EVENT - store.get_fuel()?;
        match called {
            Ok(Ok(returned)) if output_size(&returned) > MAX_OUTPUT_BYTES => Ok(Outcome::rejected(
                "output_too_large",
                format!("the contract returned more than the {MAX_OUTPUT_BYTES} bytes an event may produce"),
                fuel,
            )),
            Ok(Ok(returned)) if !effects_well_formed(&returned.effects) => Ok(Outcome::rejected(
                "bad_output",
                "the contract returned an effect without a positive canonical amount and a recipient key",
                fuel,
            )),
            Ok(Ok(returned)) => Ok(Outcome::accepted(
                returned.state,
                returned.effects,
                returned.next_due,
                fuel,
            )),
            Ok(Err((code, message))) => Ok(Outcome::rejected(code, message, fuel)),
            Err(error) => classify_trap(error, store.data().abort_message.as_deref(), fuel),
        }
    }
}

/// Whether a call checks the signatures its rules ask about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signatures {
    /// Every call that may be journaled: the host verifies each.
    Checked,
    /// Every signature is taken as good: what a plan asks of the rules ("what would the
    /// consumer's refund give today?") without anyone's key. Never journaled.
    Assumed,
}

impl WasmContract {
    fn apply_with(
        &self,
        signatures: Signatures,
        state: Option<&[u8]>,
        ctx: &prepaid_contract::Context,
        event: &str,
    ) -> Result<Outcome> {
        let (mut store, instance) = self.instantiate(signatures)?;
        let called = instance.apply(&mut store, state, ctx, event);
        WasmContract::outcome(&store, called)
    }

    fn view_with(&self, signatures: Signatures, state: &[u8]) -> Result<WalletView> {
        let (mut store, instance) = self.instantiate(signatures)?;
        match instance.view(&mut store, state) {
            Ok(Ok(view)) => Ok(view),
            Ok(Err((code, message))) => bail!("the contract cannot read this state: {code}: {message}"),
            Err(error) => Err(error.context("the contract trapped in `view`").into()),
        }
    }

    fn migrate_with(
        &self,
        signatures: Signatures,
        state: &[u8],
        from_abi: &str,
        ctx: &prepaid_contract::Context,
        event: &str,
    ) -> Result<Outcome> {
        let (mut store, instance) = self.instantiate(signatures)?;
        match instance.migrate(&mut store, state, from_abi, ctx, event) {
            Some(called) => WasmContract::outcome(&store, called),
            None => Ok(Outcome::rejected(
                "bad_event",
                format!(
                    "component {} is on ABI {}, which has no `migrate`: a wallet moves only onto a component of ABI 0.3.0 or later",
                    self.code_hash,
                    self.abi()
                ),
                0,
            )),
        }
    }

    /// The component run as if every signature were good, for a plan (crate-private: what
    /// it returns is never journaled).
    pub(crate) fn unsigned(&self) -> Unsigned<'_> {
        Unsigned(self)
    }
}

impl Rules for WasmContract {
    fn apply(&self, state: Option<&[u8]>, ctx: &prepaid_contract::Context, event: &str) -> Result<Outcome> {
        self.apply_with(Signatures::Checked, state, ctx, event)
    }

    fn view(&self, state: &[u8]) -> Result<WalletView> {
        self.view_with(Signatures::Checked, state)
    }

    fn migrate(&self, state: &[u8], from_abi: &str, ctx: &prepaid_contract::Context, event: &str) -> Result<Outcome> {
        self.migrate_with(Signatures::Checked, state, from_abi, ctx, event)
    }
}

/// A component whose calls take every signature as good ([`WasmContract::unsigned`]).
pub(crate) struct Unsigned<'a>(&'a WasmContract);

impl Rules for Unsigned<'_> {
    fn apply(&self, state: Option<&[u8]>, ctx: &prepaid_contract::Context, event: &str) -> Result<Outcome> {
        self.0.apply_with(Signatures::Assumed, state, ctx, event)
    }

    fn view(&self, state: &[u8]) -> Result<WalletView> {
        self.0.view_with(Signatures::Assumed, state)
    }

    fn migrate(&self, state: &[u8], from_abi: &str, ctx: &prepaid_contract::Context, event: &str) -> Result<Outcome> {
        self.0.migrate_with(Signatures::Assumed, state, from_abi, ctx, event)
    }
}

/// Whether every effect moves a positive, canonical amount to a well-formed key: what the
/// payment rail will be asked to carry out must never be garbage, whatever the component.
fn effects_well_formed(effects: &[EffectRecord]) -> bool {
    effects.iter().all(|effect| {
        Amount::parse(&effect.amount).is_ok_and(|amount| !amount.is_zero()) && PublicKey::from_hex(&effect.to).is_some()
    })
}

/// Bytes an accepted event returns: its state and its effects.
fn output_size(returned: &Returned) -> usize {
    returned.state.len()
        + returned
            .effects
            .iter()
            .map(|effect| effect.to.len() + effect.amount.len() + effect.reason.len())
            .sum::<usize>()
}

/// The pooling allocator's limits: a slot per instance running at once, each sized for the
/// memory cap.
fn pooling() -> PoolingAllocationConfig {
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(POOLED_INSTANCES)
        .total_core_instances(POOLED_INSTANCES * 4)
        .total_memories(POOLED_INSTANCES)
        .total_tables(POOLED_INSTANCES * 4)
        .max_memory_size(MEMORY_PER_INSTANCE)
        // Reset a slot's first pages by writing zeros rather than handing them back to the
        // kernel: an event touches little memory, and page faults were most of the cost
        // of a fresh instance.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        // Where the kernel can say which pages an event dirtied (Linux 6.7+), reset only
        // those instead of the whole resident region.
        .pagemap_scan(Enabled::Auto);
    pooling
}
