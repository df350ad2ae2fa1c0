//! What consumption is worth, at the paid rate and at the list price.
//!
//! Paid rate: the merchant's cumulative release after `consumed` units is
//! `price * consumed / total`, rounded down to the fen, so the residue stays with the
//! consumer and the last unit releases exactly what is left (at `consumed == total` the
//! release is the whole price). Each consumption releases the difference of two such
//! cumulative figures, so no sequence of requests can round in the merchant's favour.
//!
//! List price: the Supreme People's Court's 2025 interpretation on prepaid consumption
//! (法释〔2025〕4号) values consumption at the pre-discount price when a consumer leaves
//! after the cooling-off period. For stored value that is the face amount spent (the bonus
//! is lost on what was consumed); for sessions, the list price per session; plans and
//! memberships have no discount, so their list value is the paid one (the stage amounts;
//! the elapsed share of the term).

use crate::money::Amount;
use crate::policy::Policy;
use crate::products::Product;

/// The merchant's cumulative release at the paid rate after `consumed` units.
pub fn paid_rate_value(product: &Product, consumed: u64) -> Amount {
    product
        .price()
        .share_rounded_down(consumed, product.total_units())
        .expect("consumed never exceeds the product's units, so the share is at most the price")
}

/// What the merchant is paid outside supervision: the unsupervised share of the price
/// (Shenzhen supervises 20% and insures the rest; Nantong supervises a configurable share),
/// rounded down to the fen, paid at the end of the cooling-off period. Zero when the whole
/// price is supervised, the default.
pub fn unsupervised_part(product: &Product, policy: &Policy) -> Amount {
    let supervised = u64::from(policy.supervised_share.unwrap_or(100));
    product
        .price()
        .share_rounded_down(100 - supervised, 100)
        .expect("a validated share is at most 100%, so the part is at most the price")
}

/// What the merchant is entitled to after `consumed` units: the paid-rate value of the
/// consumption, until the part outside supervision is released (`share_released`); from
/// then on that part, plus the supervised part in proportion to consumption (Nantong's
/// model: the share is frozen and released as consumption goes). The second is never less
/// than the first, so releasing the share never takes anything back.
pub fn merchant_entitlement(product: &Product, policy: &Policy, consumed: u64, share_released: bool) -> Amount {
    let outside = unsupervised_part(product, policy);
    if !share_released || outside.is_zero() {
        return paid_rate_value(product, consumed);
    }
    let supervised = product
        .price()
        .checked_sub(outside)
        .expect("the unsupervised part is at most the price");
    supervised
        .share_rounded_down(consumed, product.total_units())
        .and_then(|share| share.checked_add(outside))
        .expect("consumed never exceeds the product's units, so the entitlement is at most the price")
}

/// What `consumed` units are worth at the list price.
pub fn list_value(product: &Product, consumed: u64) -> Amount {
    match product {
        Product::StoredValue(_) => Amount::from_fen(consumed),
        #[cfg(not(feature = "paid-rate-sessions"))]
        Product::Sessions(terms) => terms.list_price.checked_mul_count(consumed),
        // The suite's deliberate change of one rule (Cargo.toml says why).
        #[cfg(feature = "paid-rate-sessions")]
        Product::Sessions(_) => Some(paid_rate_value(product, consumed)),
        Product::Plan(_) | Product::Membership(_) => Some(paid_rate_value(product, consumed)),
    }
    .expect("the list value of consumed units is bounded by the validated terms")
}
