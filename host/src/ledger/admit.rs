//! Admission: the one check every event from outside passes before its contract runs, by
//! the platform's trust file and, on a journal that sells only listings, the registry's
//! catalogue.

use std::sync::MutexGuard;

use super::Ledger;
use crate::envelope::{timestamp, Envelope};
use crate::error::{Error, RefusalCode, Result};
use crate::journal::WalletHead;
use crate::registry::{MerchantStatus, Registry};

impl Ledger {
    /// Refuses `envelope` if the trust file does not admit it (see [`Trust::admit`]), or,
    /// on a journal that sells only listings, the registry (see [`Ledger::with_registry`]):
    /// the one admission every path takes (`submit`, `submit_batch`, `dry_run`, and so
    /// `prepaid apply` and `prepaid serve`). `head` is the wallet's head as the caller read
    /// it, once, for this event. An `open` runs on the component its wallet is pinned to if
    /// the wallet has a head already (a journal written before rejected opens went
    /// unrecorded may hold a head with no accepted `open`), else on `current`.
    pub(super) fn admit(&self, envelope: &Envelope, head: Option<&WalletHead>, current: Option<&str>) -> Result<()> {
        match &self.trust {
            Some(trust) => trust.admit(envelope, || {
                Ok(head.map(|head| head.code_hash.clone()).or(current.map(str::to_owned)))
            })?,
            // A journal that sells only listings was set so by a platform that admits opens
            // by its trust file: a ledger given none may not open wallets on it, or anyone
            // with the journal could approve their own terms.
            None if self.catalogue.is_some() && envelope.kind() == Some("open") => {
                return Err(Error::refused(
                    RefusalCode::UntrustedRegulator,
                    "this journal sells only listings, and its platform admits an `open` by its trust file: \
                     this ledger was given none (`--trust FILE`)",
                ))
            }
            None => {}
        }
        self.admit_listed(envelope, head)
    }

    /// The cached registry, brought up to the store's latest record.
    pub(crate) fn fresh_registry(&self) -> Result<MutexGuard<'_, Registry>> {
        let mut registry = self.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let records = self.with_store(|store| store.registry_since(registry.len()))?;
        for record in &records {
            registry.apply(record)?;
        }
        Ok(registry)
    }

    /// Refuses an `open` of a new wallet that the registry does not admit, on a ledger that
    /// sells only listings (see [`crate::registry::Registry::admit_open`]).
    pub(super) fn admit_listed(&self, envelope: &Envelope, head: Option<&WalletHead>) -> Result<()> {
        if self.catalogue.is_none() {
            return Ok(());
        }
        match envelope.kind() {
            Some("open") => {}
            // A merchant that may not sell may not ask to be paid either: a closing one
            // could otherwise ask for everything left and, where the policy deems silent
            // requests confirmed, be paid before its closure's date.
            Some("request") => return self.admit_request(&envelope.wallet),
            _ => return Ok(()),
        }
        // A wallet that exists answers for itself: its open again gets its recorded
        // outcome, anything else is refused as it would be anyway.
        if head.is_some() {
            return Ok(());
        }
        let at = envelope
            .at
            .as_deref()
            .ok_or_else(|| Error::fault("an open reached the registry unstamped"))?;
        self.fresh_registry()?.admit_open(envelope, timestamp(at)?)
    }

    /// Refuses a request on `wallet` if its merchant is registered and not approved.
    fn admit_request(&self, wallet: &str) -> Result<()> {
        let Some(merchant) = self.with_store(|store| store.merchant_of(wallet))? else {
            return Ok(());
        };
        match self.fresh_registry()?.merchant(&merchant).map(|merchant| merchant.status) {
            None | Some(MerchantStatus::Approved) => Ok(()),
            Some(status) => Err(Error::refused(
                RefusalCode::MerchantNotSelling,
                format!(
                    "the wallet's merchant is {}: it may not ask to be paid; the frozen money waits for the consumer or the closure",
                    crate::text::word(&status)
                ),
            )),
        }
    }
}
