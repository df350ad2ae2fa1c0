//! Admission: the one check every event from outside passes before its contract runs, by
//! the platform's trust file and, on a journal that sells only listings, the registry's
//! catalogue. It runs on the connection that then applies the event, on the head that
//! connection read: in `submit`'s transaction, and inside the writer's for a batch.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::envelope::{timestamp, Envelope};
use crate::error::{Error, RefusalCode, Result};
use crate::journal::WalletHead;
use crate::outcome::Verdict;
use crate::registry::{MerchantStatus, Registry};
use crate::store::Store;
use crate::trust::Trust;

/// Where a ledger takes a wallet's money to come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Funding {
    /// Only from the payment rail: an `open` must await its price (`awaiting_funding`),
    /// which counts once the payment adapter reports `funded`; an `open` that says it is
    /// paid is refused (`unfunded_open`). Otherwise whoever sends one (a merchant's key,
    /// an operator's) could freeze, release and refund money that never came in. The
    /// default, and what `prepaid serve` and `prepaid apply` run.
    #[default]
    Rail,
    /// As each `open` says: one may say it is paid. For histories written in advance
    /// (scenario files, the test kit) and tests about something
    /// else than payment; never for events from outside the platform.
    Declared,
}

/// How a ledger admits events: where money comes from, its trust file, if given, and its
/// cached fold of the registry (which the catalogue reads). Cheap to clone: a batch
/// carries one to the writer.
#[derive(Clone, Default)]
pub(crate) struct Admission {
    /// Whether an `open` may say it is paid.
    pub(crate) funding: Funding,
    /// The trust file every `open` must pass, if the platform gave one.
    pub(crate) trust: Option<Arc<Trust>>,
    /// The registry, as far as this ledger has read its log.
    registry: Arc<Mutex<Registry>>,
}

impl Admission {
    /// Refuses `envelope` if the trust file does not admit it (see [`Trust::admit`]), or,
    /// on a journal that sells only listings, the registry (see
    /// [`crate::Ledger::with_registry`]): the one admission every path takes (`submit`,
    /// `submit_batch`, `dry_run`, and so `prepaid apply` and `prepaid serve`). `head` is
    /// the wallet's head as `store` read it for this event, once; the event runs on that
    /// reading. An `open` runs on the component its wallet is pinned to if the wallet has
    /// a head already (a journal written before rejected opens went unrecorded may hold a
    /// head with no accepted `open`), else on `current`.
    pub(crate) fn admit(
        &self,
        store: &dyn Store,
        envelope: &Envelope,
        head: Option<&WalletHead>,
        current: Option<&str>,
    ) -> Result<()> {
        let kind = envelope.kind();
        if kind == Some("open")
            && self.funding == Funding::Rail
            && envelope
                .event
                .get("awaiting_funding")
                .and_then(serde_json::Value::as_bool)
                != Some(true)
        {
            return Err(Error::refused(
                RefusalCode::UnfundedOpen,
                "a wallet's money exists only once the payment rail reports it: open with \
                 `\"awaiting_funding\": true`, and the price counts when the payment adapter sends `funded`",
            ));
        }
        // Only an `open` or a `request` answers to the catalogue: the journal is asked
        // whether it sells only listings then, every time, so a ledger opened before the
        // platform set it learns of it too.
        let listed_only = match kind {
            Some("open" | "request") => store.listed_only()?.is_some(),
            _ => false,
        };
        match &self.trust {
            Some(trust) => trust.admit(envelope, || {
                Ok(head.map(|head| head.code_hash.clone()).or(current.map(str::to_owned)))
            })?,
            // A journal that sells only listings was set so by a platform that admits opens
            // by its trust file: a ledger given none may not open wallets on it, or anyone
            // with the journal could approve their own terms.
            // Nor onto code no trust file lists: the code a wallet moves to would otherwise
            // be whatever anyone with the journal stored.
            None if kind == Some("migrate") => {
                return Err(Error::refused(
                    RefusalCode::UntrustedComponent,
                    "a migration moves a wallet only onto code the platform's trust file lists: this ledger was given none (`--trust FILE`)",
                ))
            }
            None if listed_only && kind == Some("open") => {
                return Err(Error::refused(
                    RefusalCode::UntrustedRegulator,
                    "this journal sells only listings, and its platform admits an `open` by its trust file: \
                     this ledger was given none (`--trust FILE`)",
                ))
            }
            None => {}
        }
        if !listed_only {
            return Ok(());
        }
        if kind == Some("request") {
            // A merchant that may not sell may not ask to be paid either: a closing one
            // could otherwise ask for everything left and, where the policy deems silent
            // requests confirmed, be paid before its closure's date.
            return self.admit_request(store, &envelope.wallet);
        }
        // A wallet opened already answers for itself: its open again gets its recorded
        // outcome, anything else is refused as it would be anyway. A head with no state
        // (a rejected open, journaled before those went unrecorded) is opened by this
        // `open`, so the catalogue decides.
        if head.is_some_and(|head| head.state.is_some()) {
            return Ok(());
        }
        let at = envelope
            .at
            .as_deref()
            .ok_or_else(|| Error::fault("an open reached the registry unstamped"))?;
        self.registry(store)?.admit_open(envelope, timestamp(at)?)
    }

    /// Refuses what `envelope` would do to a wallet running `code_hash` if the trust file
    /// revokes that code and the event would pay the merchant (see [`Trust::admit_outcome`]):
    /// asked once the contract has run, before anything is journaled.
    pub(crate) fn admit_outcome(
        &self,
        code_hash: &str,
        envelope: &Envelope,
        verdict: &Verdict,
        consumer: impl FnOnce() -> Result<String>,
    ) -> Result<()> {
        match &self.trust {
            Some(trust) => trust.admit_outcome(code_hash, envelope, verdict, consumer),
            None => Ok(()),
        }
    }

    /// The components whose wallets are not ticked: those the trust file revokes.
    pub(crate) fn untickable(&self) -> &[String] {
        self.trust.as_ref().map_or(&[], |trust| &trust.revoked)
    }

    /// The cached registry, brought up to `store`'s latest record.
    pub(crate) fn registry(&self, store: &dyn Store) -> Result<MutexGuard<'_, Registry>> {
        let mut registry = self.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for record in &store.registry_since(registry.len())? {
            registry.apply(record)?;
        }
        Ok(registry)
    }

    /// Refuses a request on `wallet` if its merchant is registered and not approved.
    fn admit_request(&self, store: &dyn Store, wallet: &str) -> Result<()> {
        let Some(merchant) = store.merchant_of(wallet)? else {
            return Ok(());
        };
        match self.registry(store)?.merchant(&merchant).map(|merchant| merchant.status) {
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
