//! The contract ABIs this host runs, side by side: 0.2.0 (frozen in wit/0.2.0/), 0.3.0
//! (frozen in wit/0.3.0/, which adds `migrate`) and 0.4.0 (wit/contract.wit, which adds the
//! `claim` effect and the view's `owed`). Each is a wasmtime binding of its own WIT file;
//! one macro gives each the same host imports and the same ABI-neutral calls, so the engine
//! above knows of versions only which one a component is. What an older ABI lacks reads as
//! nothing: no claims, nothing owed.

use wasmtime::component::{HasSelf, Linker};
use wasmtime::Store;

use crate::outcome::{EffectRecord, WalletView};

/// Per-call host state: the memory limiter, the message of a contract panic, and whether
/// every signature is taken as good (a plan's calls, never journaled).
pub(super) struct CallState {
    pub(super) limits: wasmtime::StoreLimits,
    pub(super) abort_message: Option<String>,
    pub(super) assume_signed: bool,
}

/// An accepted call's result, whichever ABI returned it.
pub(super) struct Returned {
    pub(super) state: Vec<u8>,
    pub(super) effects: Vec<EffectRecord>,
    pub(super) next_due: Option<i64>,
}

/// A contract's rejection: its code and message.
pub(super) type Rejected = (String, String);

/// What a call returned: the contract's answer, or a trap.
pub(super) type Called<T> = wasmtime::Result<Result<T, Rejected>>;

/// An instance of a contract component, on whichever ABI it was built.
pub(super) trait Instance {
    /// `apply`.
    fn apply(
        &self,
        store: &mut Store<CallState>,
        state: Option<&[u8]>,
        ctx: &prepaid_contract::Context,
        event: &str,
    ) -> Called<Returned>;

    /// `view`.
    fn view(&self, store: &mut Store<CallState>, state: &[u8]) -> Called<WalletView>;

    /// `migrate`, where the ABI has it (`None` on an ABI without).
    fn migrate(
        &self,
        _store: &mut Store<CallState>,
        _state: &[u8],
        _from_abi: &str,
        _ctx: &prepaid_contract::Context,
        _event: &str,
    ) -> Option<Called<Returned>> {
        None
    }
}

/// A component linked and ready to instantiate, on its ABI.
pub(super) enum Pre {
    V0_2(v0_2::ContractPre<CallState>),
    V0_3(v0_3::ContractPre<CallState>),
    V0_4(v0_4::ContractPre<CallState>),
}

impl Pre {
    /// The ABIs, newest first: a component is on the newest whose exports it has.
    pub(super) const VERSIONS: [&'static str; 3] = ["0.4.0", "0.3.0", "0.2.0"];

    /// `component` on ABI `version`, if it has that ABI's exports.
    pub(super) fn new(version: &str, pre: wasmtime::component::InstancePre<CallState>) -> wasmtime::Result<Pre> {
        match version {
            "0.4.0" => Ok(Pre::V0_4(v0_4::ContractPre::new(pre)?)),
            "0.3.0" => Ok(Pre::V0_3(v0_3::ContractPre::new(pre)?)),
            _ => Ok(Pre::V0_2(v0_2::ContractPre::new(pre)?)),
        }
    }

    /// The ABI's version.
    pub(super) fn version(&self) -> &'static str {
        match self {
            Pre::V0_2(_) => "0.2.0",
            Pre::V0_3(_) => "0.3.0",
            Pre::V0_4(_) => "0.4.0",
        }
    }

    /// A fresh instance in `store`.
    pub(super) fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Box<dyn Instance>> {
        Ok(match self {
            Pre::V0_2(pre) => Box::new(pre.instantiate(store)?),
            Pre::V0_3(pre) => Box::new(pre.instantiate(store)?),
            Pre::V0_4(pre) => Box::new(pre.instantiate(store)?),
        })
    }
}

/// The imports every ABI's components may have, by ABI.
pub(super) fn allowed_imports(version: &str) -> [String; 3] {
    ["crypto", "diagnostics", "types"].map(|interface| format!("prepaid:contract/{interface}@{version}"))
}

/// A linker offering every ABI's imports (their names differ by version).
pub(super) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    v0_2::Contract::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
    v0_3::Contract::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
    v0_4::Contract::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// The host's side of ABI `$abi`: its imports, and its calls in the ABI-neutral types,
/// with the ABI's effect kinds and their names.
macro_rules! abi {
    ($abi:ident, $path:literal, [$($kind:ident => $name:literal),+]) => {
        #[allow(missing_docs)]
        pub(super) mod $abi {
            wasmtime::component::bindgen!({
                path: $path,
                world: "contract",
                imports: { "prepaid:contract/diagnostics.abort": trappable },
            });
        }

        impl $abi::prepaid::contract::crypto::Host for CallState {
            fn ed25519_verify(&mut self, public_key: Vec<u8>, message: Vec<u8>, signature: Vec<u8>) -> bool {
                use prepaid_contract::Crypto;
                if self.assume_signed {
                    return true;
                }
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

        impl $abi::prepaid::contract::diagnostics::Host for CallState {
            fn abort(&mut self, message: String) -> wasmtime::Result<()> {
                self.abort_message = Some(message.clone());
                Err(wasmtime::format_err!("the contract aborted: {message}"))
            }
        }

        impl $abi::prepaid::contract::types::Host for CallState {}

        impl $abi::Contract {
            fn context(ctx: &prepaid_contract::Context) -> $abi::prepaid::contract::types::Context {
                $abi::prepaid::contract::types::Context {
                    wallet: ctx.wallet.clone(),
                    event_id: ctx.event_id.clone(),
                    timestamp: ctx.timestamp,
                    signature: ctx.signature.map(|signature| signature.0.to_vec()),
                }
            }

            fn returned(
                result: Result<$abi::prepaid::contract::types::Applied, $abi::prepaid::contract::types::ContractError>,
            ) -> Result<Returned, Rejected> {
                use $abi::prepaid::contract::types::EffectKind;
                let applied = result.map_err(|error| (error.code, error.message))?;
                Ok(Returned {
                    state: applied.state,
                    effects: applied
                        .effects
                        .into_iter()
                        .map(|effect| EffectRecord {
                            kind: match effect.kind {
                                $(EffectKind::$kind => $name,)+
                            }
                            .into(),
                            to: effect.to,
                            amount: effect.amount,
                            reason: effect.reason,
                        })
                        .collect(),
                    next_due: applied.next_due,
                })
            }
        }
    };
}

abi!(v0_2, "../wit/0.2.0/contract.wit", [Release => "release", Refund => "refund"]);
abi!(v0_3, "../wit/0.3.0/contract.wit", [Release => "release", Refund => "refund"]);
abi!(v0_4, "../wit/contract.wit", [Release => "release", Refund => "refund", Claim => "claim"]);

/// `apply` and `view`, the same on every ABI but for what the view says is owed (`$owed`,
/// of the ABI's view).
macro_rules! calls {
    ($abi:ident, |$view:ident| $owed:expr) => {
        fn apply(
            &self,
            store: &mut Store<CallState>,
            state: Option<&[u8]>,
            ctx: &prepaid_contract::Context,
            event: &str,
        ) -> Called<Returned> {
            Ok($abi::Contract::returned(self.call_apply(
                store,
                state,
                &$abi::Contract::context(ctx),
                event,
            )?))
        }

        fn view(&self, store: &mut Store<CallState>, state: &[u8]) -> Called<WalletView> {
            use $abi::prepaid::contract::types::Status;
            Ok(self
                .call_view(store, state)?
                .map(|$view| WalletView {
                    owed: $owed,
                    status: match $view.status {
                        Status::Active => "active",
                        Status::Disputed => "disputed",
                        Status::Closed => "closed",
                    }
                    .into(),
                    product: $view.product,
                    consumer: $view.consumer,
                    merchant: $view.merchant,
                    paid: $view.paid,
                    frozen: $view.frozen,
                    released: $view.released,
                    refunded: $view.refunded,
                    pending: $view.pending,
                    next_due: $view.next_due,
                })
                .map_err(|error| (error.code, error.message)))
        }
    };
}

/// `migrate`, the same on every ABI that has it.
macro_rules! migrate_call {
    ($abi:ident) => {
        fn migrate(
            &self,
            store: &mut Store<CallState>,
            state: &[u8],
            from_abi: &str,
            ctx: &prepaid_contract::Context,
            event: &str,
        ) -> Option<Called<Returned>> {
            Some(
                self.call_migrate(store, state, from_abi, &$abi::Contract::context(ctx), event)
                    .map($abi::Contract::returned),
            )
        }
    };
}

impl Instance for v0_2::Contract {
    calls!(v0_2, |view| "0.00".into());
}

impl Instance for v0_3::Contract {
    calls!(v0_3, |view| "0.00".into());
    migrate_call!(v0_3);
}

impl Instance for v0_4::Contract {
    calls!(v0_4, |view| view.owed);
    migrate_call!(v0_4);
}
