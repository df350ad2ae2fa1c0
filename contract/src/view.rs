//! The typed figures of a wallet, for people, hosts and tests.

use alloc::string::String;

use crate::error::ContractError;
use crate::keys::PublicKey;
use crate::money::Amount;
use crate::state::{Status, Wallet};

/// A wallet's figures. Always `paid = frozen + released + refunded` and
/// `pending <= frozen`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Where the wallet is in its life.
    pub status: Status,
    /// The product kind.
    pub product: String,
    /// The consumer's key.
    pub consumer: PublicKey,
    /// The merchant's key.
    pub merchant: PublicKey,
    /// What the consumer paid.
    pub paid: Amount,
    /// What is still frozen.
    pub frozen: Amount,
    /// What has been released to the merchant.
    pub released: Amount,
    /// What has been refunded to the consumer.
    pub refunded: Amount,
    /// What the pending requests would release.
    pub pending: Amount,
    /// When the platform should next tick the wallet (see [`crate::time::next_due`]).
    pub next_due: Option<i64>,
}

/// The view of the state bytes `state`.
pub fn view(state: &[u8]) -> Result<View, ContractError> {
    let wallet = Wallet::decode(state)?;
    Ok(View {
        status: wallet.status,
        product: wallet.product.kind().into(),
        consumer: wallet.consumer,
        merchant: wallet.merchant,
        paid: wallet.paid(),
        frozen: wallet.frozen()?,
        released: wallet.released,
        refunded: wallet.refunded,
        pending: wallet.pending(),
        next_due: crate::time::next_due(&wallet),
    })
}
