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
//! is lost on what was consumed); for sessions, the list price per session.

use crate::money::Amount;
use crate::products::Product;

/// The merchant's cumulative release at the paid rate after `consumed` units.
pub fn paid_rate_value(product: &Product, consumed: u64) -> Amount {
    product
        .price()
        .share_rounded_down(consumed, product.total_units())
        .expect("consumed never exceeds the product's units, so the share is at most the price")
}

/// What `consumed` units are worth at the list price.
pub fn list_value(product: &Product, consumed: u64) -> Amount {
    match product {
        Product::StoredValue(_) => Amount::from_fen(consumed),
        Product::Sessions(terms) => terms.list_price.checked_mul_count(consumed),
    }
    .expect("the list value of consumed units is bounded by the validated terms")
}
