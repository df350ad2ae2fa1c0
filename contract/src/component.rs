//! The WebAssembly component's glue: WIT bindings, host crypto, the allocator and the
//! panic handler. Built only for wasm32; the rules above know nothing of it.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::ErrorCode;
use crate::keys::HexBytes;
use crate::state::Status;

// Defines the WIT world's `Context`, `Applied`, `ContractError` and `View` here; the
// rules' own types of those names are referred to through their modules.
wit_bindgen::generate!({ path: "../wit/contract.wit", world: "contract", std_feature });

use prepaid::contract::types::{Effect, EffectKind};

#[global_allocator]
static ALLOCATOR: crate::arena::Arena = crate::arena::Arena::new();

/// A panic reaches the host as its message and location through the diagnostic import,
/// so a contract author sees why it trapped rather than a bare `unreachable`.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    prepaid::contract::diagnostics::abort(&info.to_string());
    core::arch::wasm32::unreachable()
}

/// Crypto computed by the host through the `crypto` import.
struct HostCrypto;

impl crate::Crypto for HostCrypto {
    fn ed25519_verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        prepaid::contract::crypto::ed25519_verify(public_key, message, signature)
    }

    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        let digest = prepaid::contract::crypto::sha256(data);
        digest.try_into().expect("the host's sha256 returns 32 bytes")
    }
}

struct Component;

export!(Component);

impl Guest for Component {
    fn apply(state: Option<Vec<u8>>, ctx: Context, event: String) -> Result<Applied, ContractError> {
        let applied = crate::apply(&HostCrypto, state.as_deref(), &from_wit_context(ctx)?, &event);
        applied.map(to_wit_applied).map_err(to_wit_error)
    }

    fn migrate(state: Vec<u8>, from_abi: String, ctx: Context, event: String) -> Result<Applied, ContractError> {
        let applied = crate::migrate(&HostCrypto, &state, &from_abi, &from_wit_context(ctx)?, &event);
        applied.map(to_wit_applied).map_err(to_wit_error)
    }

    fn view(state: Vec<u8>) -> Result<View, ContractError> {
        let view = crate::view(&state).map_err(to_wit_error)?;
        Ok(View {
            status: match view.status {
                Status::Active => prepaid::contract::types::Status::Active,
                Status::Disputed => prepaid::contract::types::Status::Disputed,
                Status::Closed => prepaid::contract::types::Status::Closed,
            },
            product: view.product,
            consumer: view.consumer.to_string(),
            merchant: view.merchant.to_string(),
            paid: view.paid.to_string(),
            frozen: view.frozen.to_string(),
            released: view.released.to_string(),
            refunded: view.refunded.to_string(),
            pending: view.pending.to_string(),
            owed: view.owed.to_string(),
            next_due: view.next_due,
        })
    }
}

/// The rules' context of a call: a signature that is not 64 bytes is `bad_signature`.
fn from_wit_context(ctx: Context) -> Result<crate::Context, ContractError> {
    let signature = match ctx.signature.as_deref().map(HexBytes::from_slice) {
        None => None,
        Some(Some(signature)) => Some(signature),
        Some(None) => {
            let error = crate::ContractError::new(ErrorCode::BadSignature, "a signature is 64 bytes");
            return Err(to_wit_error(error));
        }
    };
    Ok(crate::Context {
        wallet: ctx.wallet,
        event_id: ctx.event_id,
        timestamp: ctx.timestamp,
        signature,
    })
}

fn to_wit_applied(applied: crate::Applied) -> Applied {
    Applied {
        state: applied.state,
        next_due: applied.next_due,
        effects: applied
            .effects
            .into_iter()
            .map(|effect| Effect {
                kind: match effect.kind {
                    crate::EffectKind::Release => EffectKind::Release,
                    crate::EffectKind::Refund => EffectKind::Refund,
                    crate::EffectKind::Claim => EffectKind::Claim,
                },
                to: effect.to.to_string(),
                amount: effect.amount.to_string(),
                reason: effect.reason.into(),
            })
            .collect(),
    }
}

fn to_wit_error(error: crate::ContractError) -> ContractError {
    ContractError {
        code: error.code.as_str().into(),
        message: error.message,
    }
}
