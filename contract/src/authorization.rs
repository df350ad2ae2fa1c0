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
use crate::event::{Context, Event, Listing, MerchantClosed};
use crate::keys::PublicKey;
use crate::policy::Policy;
use crate::products::Product;

/// Domain tags keep an event signature from ever verifying as an approval, and vice versa.
const EVENT_DOMAIN: &[u8] = b"prepaid-event/v1";
const APPROVAL_DOMAIN: &[u8] = b"prepaid-approval/v1";
/// An approval naming a catalogue listing and its expiry is a different message from one
/// that does not, so neither can be passed off as the other.
const LISTING_APPROVAL_DOMAIN: &[u8] = b"prepaid-approval/v2";
const CLOSURE_DOMAIN: &[u8] = b"prepaid-closure/v1";

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

/// The digest a regulator signs to approve `product` under `policy` for sale by `merchant`,
/// as the catalogue `listing` if it names one (then until its `approved_until`). It names
/// no wallet: one approval serves every sale of the approved terms.
pub fn approval_message(
    crypto: &impl Crypto,
    merchant: &PublicKey,
    listing: Option<&Listing>,
    product: &Product,
    policy: &Policy,
) -> [u8; 32] {
    let terms = terms_json(product, policy);
    let mut message = Vec::new();
    match listing {
        None => push_field(&mut message, APPROVAL_DOMAIN),
        Some(listing) => {
            push_field(&mut message, LISTING_APPROVAL_DOMAIN);
            push_field(&mut message, listing.id.as_bytes());
            push_field(&mut message, &listing.approved_until.to_be_bytes());
        }
    }
    push_field(&mut message, &merchant.0);
    push_field(&mut message, &terms);
    crypto.sha256(&message)
}

/// The terms an approval signs, as bytes: the canonical JSON of `[product, policy]`. A
/// signer that is shown these bytes (the regulator's page) signs exactly what it saw.
pub fn terms_json(product: &Product, policy: &Policy) -> Vec<u8> {
    serde_json::to_vec(&(product, policy)).expect("terms always serialize")
}

/// The digest a regulator signs to close `merchant` from `effective` on: it names no
/// wallet, since it closes them all.
pub fn closure_message(crypto: &impl Crypto, merchant: &PublicKey, effective: i64) -> [u8; 32] {
    let mut message = Vec::new();
    push_field(&mut message, CLOSURE_DOMAIN);
    push_field(&mut message, &merchant.0);
    push_field(&mut message, &effective.to_be_bytes());
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

/// Checks the regulator's approval of the terms of an `open`, and that an approval as a
/// catalogue listing has not lapsed by `now`.
pub fn require_approval(crypto: &impl Crypto, open: &crate::event::Open, now: i64) -> Result<(), ContractError> {
    let listing = open.listing.as_ref();
    let message = approval_message(crypto, &open.merchant, listing, &open.product, &open.policy);
    if !crypto.ed25519_verify(&open.regulator.0, &message, &open.approval.0) {
        return reject(
            ErrorCode::BadApproval,
            "the regulator has not approved these terms for this merchant; have the regulator sign the product and policy",
        );
    }
    match listing {
        Some(listing) if now > listing.approved_until => reject(
            ErrorCode::ApprovalExpired,
            alloc::format!(
                "the regulator's approval of listing {} lapsed at {} and it is now {now}; the listing must be reviewed again",
                listing.id, listing.approved_until
            ),
        ),
        _ => Ok(()),
    }
}

/// Checks a `merchant_closed`'s signature: over the event by the regulator, or, if it
/// carries a closure, over the closure of the wallet's `merchant` from its date on (and it
/// is rejected before then).
pub fn require_closure(
    crypto: &impl Crypto,
    ctx: &Context,
    event: &Event,
    closed: &MerchantClosed,
    merchant: &PublicKey,
    regulator: &PublicKey,
) -> Result<(), ContractError> {
    let Some(closure) = &closed.closure else {
        return require_signature(crypto, ctx, event, regulator, "regulator");
    };
    let signed = closure.merchant == *merchant
        && ctx.signature.as_ref().is_some_and(|signature| {
            let message = closure_message(crypto, &closure.merchant, closure.effective);
            crypto.ed25519_verify(&regulator.0, &message, &signature.0)
        });
    if !signed {
        return reject(
            ErrorCode::BadSignature,
            "the signature is not the regulator's closure of this wallet's merchant; have the regulator sign the closure",
        );
    }
    if ctx.timestamp < closure.effective {
        return reject(
            ErrorCode::NotYetEffective,
            alloc::format!(
                "the merchant's closure takes effect at {} and it is now {}",
                closure.effective,
                ctx.timestamp
            ),
        );
    }
    Ok(())
}
