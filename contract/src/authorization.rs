//! Who must sign what, and the canonical messages they sign.
//!
//! Release only on the consumer's authorization is the core of the Suzhou e-CNY platform's
//! rules (funds stay the consumer's until the consumer authorizes each consumption), and
//! "no unreviewed product can be sold" is why `open` carries the regulator's approval of
//! the terms. A signature covers the wallet, the event id and every field of the event, so
//! it cannot be replayed onto another wallet or event.

use alloc::vec::Vec;

use crate::crypto::Crypto;
use crate::error::{reject, ContractError, ErrorCode};
use crate::event::{Context, Event};
use crate::keys::{PublicKey, Signature};
use crate::policy::Policy;
use crate::products::Product;

/// Domain tags keep an event signature from ever verifying as an approval, and vice versa.
const EVENT_DOMAIN: &[u8] = b"prepaid-event/v1";
const APPROVAL_DOMAIN: &[u8] = b"prepaid-approval/v1";

/// Appends `field` with its length, so no two different field lists encode alike.
fn push_field(message: &mut Vec<u8>, field: &[u8]) {
    message.extend_from_slice(&(field.len() as u32).to_be_bytes());
    message.extend_from_slice(field);
}

/// The digest a signer signs for `event` on `wallet` under `event_id`: SHA-256 over the
/// domain tag, the wallet, the event id and the event's canonical JSON.
pub fn event_message(crypto: &impl Crypto, wallet: &str, event_id: &str, event: &Event) -> [u8; 32] {
    let mut message = Vec::new();
    push_field(&mut message, EVENT_DOMAIN);
    push_field(&mut message, wallet.as_bytes());
    push_field(&mut message, event_id.as_bytes());
    push_field(&mut message, &event.canonical_json());
    crypto.sha256(&message)
}

/// The digest a regulator signs to approve `product` under `policy` for sale by `merchant`.
/// It names no wallet: one approval serves every sale of the approved terms.
pub fn approval_message(crypto: &impl Crypto, merchant: &PublicKey, product: &Product, policy: &Policy) -> [u8; 32] {
    let terms = serde_json::to_vec(&(product, policy)).expect("terms always serialize");
    let mut message = Vec::new();
    push_field(&mut message, APPROVAL_DOMAIN);
    push_field(&mut message, &merchant.0);
    push_field(&mut message, &terms);
    crypto.sha256(&message)
}

/// Checks that the event in `ctx` is signed by `signer`, who is the wallet's `role`.
pub fn require_signature(
    crypto: &impl Crypto,
    ctx: &Context,
    event: &Event,
    signer: &PublicKey,
    role: &str,
) -> Result<(), ContractError> {
    let Some(signature) = &ctx.signature else {
        return reject(
            ErrorCode::BadSignature,
            alloc::format!("this event must be signed by the {role}"),
        );
    };
    let message = event_message(crypto, &ctx.wallet, &ctx.event_id, event);
    if crypto.ed25519_verify(&signer.0, &message, &signature.0) {
        Ok(())
    } else {
        reject(
            ErrorCode::BadSignature,
            alloc::format!(
                "the signature is not the {role}'s for this wallet and event id; sign the event with the {role}'s key"
            ),
        )
    }
}

/// Checks the regulator's approval of the terms of an `open`.
pub fn require_approval(
    crypto: &impl Crypto,
    regulator: &PublicKey,
    approval: &Signature,
    merchant: &PublicKey,
    product: &Product,
    policy: &Policy,
) -> Result<(), ContractError> {
    let message = approval_message(crypto, merchant, product, policy);
    if crypto.ed25519_verify(&regulator.0, &message, &approval.0) {
        Ok(())
    } else {
        reject(
            ErrorCode::BadApproval,
            "the regulator has not approved these terms for this merchant; have the regulator sign the product and policy",
        )
    }
}
