//! The wasmtime engine, configured for determinism, and the contract component on it.
//!
//! Determinism: NaN canonicalization, no threads (wasmtime is built without the `threads`
//! feature, so shared memories cannot even be compiled), no relaxed SIMD, a fixed wasm stack,
//! fuel metering with a fixed per-event limit, and a memory cap per instance. The linker
//! offers only the WIT world's imports (crypto and diagnostics): no WASI, no clock, no
//! randomness. Each event runs in a fresh instance, so nothing survives between calls but
//! the state bytes the host passes in.

use anyhow::{bail, Result};
// wasmtime 48 has its own error type; its `Context` adds context to wasmtime results,
// which `?` then turns into `anyhow` errors.
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};

use crate::outcome::{sha256_hex, EffectRecord, Outcome, WalletView};
use crate::rules::Rules;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "contract",
    imports: { "prepaid:contract/diagnostics.abort": trappable },
});

use prepaid::contract::types;

/// The version of the execution limits below. Fuel is recorded per entry and compared on
/// replay, so the limits may only change under a new version.
pub const LIMITS_VERSION: u32 = 1;
/// Fuel one event may use, instantiation included: about 100 times what the rules use
/// today (90,000 to 145,000 per event).
pub const FUEL_PER_EVENT: u64 = 10_000_000;
/// Linear memory one instance may grow to.
pub const MEMORY_PER_INSTANCE: usize = 32 << 20;
/// Native stack wasm code may use.
pub const MAX_WASM_STACK: usize = 512 << 10;

/// The only imports a contract component may have: the WIT world's interfaces.
pub const ALLOWED_IMPORTS: [&str; 3] = [
    "prepaid:contract/crypto@0.1.0",
    "prepaid:contract/diagnostics@0.1.0",
    "prepaid:contract/types@0.1.0",
];

/// Per-call host state: the memory limiter and the message of a contract panic.
struct CallState {
    limits: StoreLimits,
    abort_message: Option<String>,
}

impl prepaid::contract::crypto::Host for CallState {
    fn ed25519_verify(&mut self, public_key: Vec<u8>, message: Vec<u8>, signature: Vec<u8>) -> bool {
        use prepaid_contract::Crypto;
        match (<[u8; 32]>::try_from(public_key), <[u8; 64]>::try_from(signature)) {
            (Ok(key), Ok(signature)) => prepaid_contract::NativeCrypto.ed25519_verify(&key, &message, &signature),
            _ => false,
        }
    }

    fn sha256(&mut self, data: Vec<u8>) -> Vec<u8> {
        use prepaid_contract::Crypto;
        prepaid_contract::NativeCrypto.sha256(&data).to_vec()
    }
}

impl prepaid::contract::diagnostics::Host for CallState {
    fn abort(&mut self, message: String) -> wasmtime::Result<()> {
        self.abort_message = Some(message.clone());
        Err(wasmtime::format_err!("the contract aborted: {message}"))
    }
}

impl types::Host for CallState {}

/// The engine and linker every contract component runs on.
pub struct ContractEngine {
    engine: Engine,
    linker: Linker<CallState>,
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
            .max_wasm_stack(MAX_WASM_STACK);
        let engine = Engine::new(&config).context("configuring wasmtime")?;
        let mut linker = Linker::new(&engine);
        Contract::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state).context("linking the host imports")?;
        Ok(ContractEngine { engine, linker })
    }

    /// Compiles a contract component, refusing one that imports anything outside the WIT
    /// world (naming the import).
    pub fn load(&self, bytes: &[u8]) -> Result<WasmContract> {
        let code_hash = sha256_hex(bytes);
        let component = Component::new(&self.engine, bytes)
            .with_context(|| format!("component {code_hash} is not a valid WebAssembly component"))?;
        for (name, _) in component.component_type().imports(&self.engine) {
            if !ALLOWED_IMPORTS.contains(&name) {
                bail!(
                    "component {code_hash} imports `{name}`, which the contract world does not offer \
                     (a contract may import only {})",
                    ALLOWED_IMPORTS.join(", ")
                );
            }
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .with_context(|| format!("component {code_hash} does not fit the contract world"))?;
        let pre =
            ContractPre::new(pre).with_context(|| format!("component {code_hash} lacks the contract's exports"))?;
        Ok(WasmContract {
            code_hash,
            engine: self.engine.clone(),
            pre,
        })
    }
}

/// A compiled contract component, ready to run one event per fresh instance.
pub struct WasmContract {
    code_hash: String,
    engine: Engine,
    pre: ContractPre<CallState>,
}

impl WasmContract {
    /// The component's code hash: the SHA-256 of its bytes, hex.
    pub fn code_hash(&self) -> &str {
        &self.code_hash
    }

    /// A fresh store and instance with the fixed fuel and memory limits.
    fn instantiate(&self) -> Result<(Store<CallState>, Contract)> {
        let limits = StoreLimitsBuilder::new().memory_size(MEMORY_PER_INSTANCE).build();
        let mut store = Store::new(
            &self.engine,
            CallState {
                limits,
                abort_message: None,
            },
        );
        store.limiter(|state| &mut state.limits);
        store.set_fuel(FUEL_PER_EVENT)?;
        let instance = self.pre.instantiate(&mut store).context("instantiating the contract")?;
        Ok((store, instance))
    }
}

impl Rules for WasmContract {
    fn apply(&self, state: Option<&[u8]>, ctx: &prepaid_contract::Context, event: &str) -> Result<Outcome> {
        let (mut store, instance) = self.instantiate()?;
        let wit_ctx = types::Context {
            wallet: ctx.wallet.clone(),
            event_id: ctx.event_id.clone(),
            timestamp: ctx.timestamp,
            signature: ctx.signature.map(|signature| signature.0.to_vec()),
        };
        let result = instance.call_apply(&mut store, state, &wit_ctx, event);
        let fuel = FUEL_PER_EVENT - store.get_fuel()?;
        match result {
            Ok(Ok(applied)) => {
                let effects = applied
                    .effects
                    .into_iter()
                    .map(|effect| EffectRecord {
                        kind: match effect.kind {
                            types::EffectKind::Release => "release",
                            types::EffectKind::Refund => "refund",
                        }
                        .into(),
                        to: effect.to,
                        amount: effect.amount,
                        reason: effect.reason,
                    })
                    .collect();
                Ok(Outcome::accepted(applied.state, effects, fuel))
            }
            Ok(Err(error)) => Ok(Outcome::rejected(error.code, error.message, fuel)),
            Err(error) => classify_trap(error, store.data(), fuel),
        }
    }

    fn view(&self, state: &[u8]) -> Result<WalletView> {
        let (mut store, instance) = self.instantiate()?;
        let view = match instance.call_view(&mut store, state) {
            Ok(Ok(view)) => view,
            Ok(Err(error)) => bail!("the contract cannot read this state: {}: {}", error.code, error.message),
            Err(error) => return Err(error.context("the contract trapped in `view`").into()),
        };
        Ok(WalletView {
            status: match view.status {
                types::Status::Active => "active",
                types::Status::Disputed => "disputed",
                types::Status::Closed => "closed",
            }
            .into(),
            product: view.product,
            consumer: view.consumer,
            merchant: view.merchant,
            paid: view.paid,
            frozen: view.frozen,
            released: view.released,
            refunded: view.refunded,
            pending: view.pending,
        })
    }
}

/// Sorts a failed call into a deterministic outcome (recorded and replayable: a panic, fuel
/// running out, a wasm trap) or a host fault (returned as an error: nothing is recorded).
fn classify_trap(error: wasmtime::Error, state: &CallState, fuel: u64) -> Result<Outcome> {
    if let Some(message) = &state.abort_message {
        return Ok(Outcome::rejected(
            "contract_panic",
            format!("the contract panicked: {message}"),
            fuel,
        ));
    }
    let Some(trap) = error.downcast_ref::<Trap>() else {
        return Err(error.context("host fault while running the contract").into());
    };
    match trap {
        Trap::OutOfFuel => Ok(Outcome::rejected(
            "out_of_fuel",
            format!("the contract used more than the {FUEL_PER_EVENT} fuel an event may use"),
            fuel,
        )),
        Trap::StackOverflow
        | Trap::MemoryOutOfBounds
        | Trap::HeapMisaligned
        | Trap::TableOutOfBounds
        | Trap::IndirectCallToNull
        | Trap::BadSignature
        | Trap::IntegerOverflow
        | Trap::IntegerDivisionByZero
        | Trap::BadConversionToInteger
        | Trap::UnreachableCodeReached => Ok(Outcome::rejected(
            "contract_trap",
            format!("the contract trapped: {trap}"),
            fuel,
        )),
        _ => Err(error.context("unclassified trap while running the contract").into()),
    }
}
