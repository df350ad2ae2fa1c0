//! One interface over the two ways of running the contract's rules: the component in
//! wasmtime (what hosts run and journals pin) and the native build (the test oracle).

use prepaid_contract::Context;

use crate::outcome::{Outcome, WalletView};

/// Runs the contract's rules on one event at a time.
pub trait Rules {
    /// Applies `event` (its JSON) to `state` (none before the wallet's first event).
    /// A rejection or a deterministic trap is an `Ok` outcome; `Err` is a host fault, after
    /// which nothing may be recorded.
    fn apply(&self, state: Option<&[u8]>, ctx: &Context, event: &str) -> anyhow::Result<Outcome>;

    /// The figures of `state`.
    fn view(&self, state: &[u8]) -> anyhow::Result<WalletView>;

    /// Moves a wallet onto these rules by a `migrate` event: `state` is what its previous
    /// component, on contract ABI `from_abi`, last returned. Rejected, like any event, as
    /// an `Ok` outcome (rules on an ABI without `migrate` reject it).
    fn migrate(&self, state: &[u8], from_abi: &str, ctx: &Context, event: &str) -> anyhow::Result<Outcome>;
}
