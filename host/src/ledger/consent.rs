//! Migrations handed in by the regulator, and those that wait for the consumer's consent.
//!
//! A `migrate` whose new rules would give the consumer less on some path applies only with
//! the consumer's consent: their signature of the migration the regulator signed (the
//! signatures of a `migrate` leave `consent` out, so both sign the same message). Handed
//! in without it, the migration is kept, one per wallet, and the consumer is told by a
//! notice; their page shows what the wallet gives on each path under the code it runs and
//! under the new one, side by side, and their consent applies it. Nothing else moves the
//! wallet meanwhile: it stays on its code, and a migration it runs no longer (another one
//! moved it first) waits no more.

use serde::Serialize;

use super::{Ledger, Submitted};
use crate::envelope::Envelope;
use crate::error::{Error, RefusalCode, Result};
use crate::plan::{Planned, PlannedWallet, WalletPlan};
use crate::store::{Store, WalletHead};

/// What became of a migration handed in by [`Ledger::migrate`].
#[derive(Clone, Debug, PartialEq)]
pub enum Migrated {
    /// It moved the wallet: its entry.
    Moved(Box<Submitted>),
    /// It would give the consumer less on some path and carries no consent: it waits for
    /// theirs.
    Waiting,
}

/// A migration waiting for its consumer's consent, and what it would change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WaitingMigration {
    /// The regulator's signed `migrate`, as handed in: the consumer's consent is their
    /// signature of its event, under its wallet and id.
    pub event: Envelope,
    /// When it was handed in.
    #[serde(serialize_with = "crate::outcome::rfc3339")]
    pub asked_at: i64,
    /// The wallet's regulator (hex), whose signature of the event the consumer's page
    /// checks before signing the same message.
    pub regulator: String,
    /// The wallet's terms under the code it runs and under the new code, asked now.
    pub plan: WalletPlan,
}

impl Ledger {
    /// Hands in a regulator's signed `migrate`: it moves the wallet as [`Ledger::submit`]
    /// would, or, where it would give the consumer less on some path and carries no
    /// consent, waits for the consumer's ([`Ledger::consent`]), replacing any other
    /// migration of the wallet that waited. Any other refusal is returned, and keeps
    /// nothing.
    pub fn migrate(&self, envelope: &Envelope) -> Result<Migrated> {
        if envelope.kind() != Some("migrate") {
            return Err(Error::refused(
                RefusalCode::BadEnvelope,
                "only a `migrate` is handed in as a migration".to_owned(),
            ));
        }
        match self.submit(envelope) {
            Ok(submitted) => {
                // A migration journaled before and sent again changes nothing, nor what waits.
                if !submitted.replayed {
                    self.with_store(|store| store.set_waiting_migration(&envelope.wallet, None))?;
                }
                Ok(Migrated::Moved(Box::new(submitted)))
            }
            Err(Error::Refused(refusal)) if refusal.code == RefusalCode::AwaitsConsent => {
                let asked_at = self.clock.now()?;
                self.with_store(|store| {
                    store.set_waiting_migration(&envelope.wallet, Some((&envelope.untimed().to_json(), asked_at)))
                })?;
                Ok(Migrated::Waiting)
            }
            Err(error) => Err(error),
        }
    }

    /// Signs with `key` (a regulator's) a `migrate` naming `plan` for each wallet it
    /// foresees moving that `key` regulates, and hands each in ([`Ledger::migrate`]), the
    /// wallets spread over the machine's cores: what became of each, in the plan's order
    /// (`None`: another regulator's wallet, left to it). One wallet's refusal (it moved
    /// since the plan) does not stop the others.
    pub fn migrate_as_planned(
        &self,
        plan: &Planned,
        key: &ed25519_dalek::SigningKey,
    ) -> Vec<(String, Option<Result<Migrated>>)> {
        let regulator = prepaid_contract::keys::HexBytes(key.verifying_key().to_bytes());
        // Where the plan found the consumer would get less, the migration asks for their
        // consent, however the wallet stands when it applies.
        let hand_in_signed = |planned: &PlannedWallet| -> Result<Migrated> {
            let mut event =
                serde_json::json!({"type": "migrate", "from": planned.from, "to": plan.to, "plan": plan.hash});
            if planned.consumer_worse {
                event["ask_consent"] = true.into();
            }
            let mut migration = Envelope {
                wallet: planned.wallet.clone(),
                id: format!("migrate-{}", plan.to),
                at: None,
                event,
                signature: None,
            };
            migration.sign(key)?;
            self.migrate(&migration)
        };
        let hand_in = |planned: &PlannedWallet| -> Option<Result<Migrated>> {
            // Another regulator's wallet is left to it (a state this build does not read is
            // handed in, and its code checks who signed).
            let state = match self.head(&planned.wallet) {
                Ok(head) => head.and_then(|head| head.state).unwrap_or_default(),
                Err(error) => return Some(Err(error)),
            };
            if let Ok(found) = prepaid_contract::state::Wallet::decode(&state) {
                if found.regulator != regulator {
                    return None;
                }
            }
            Some(hand_in_signed(planned))
        };
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk = plan.wallets.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = plan
                .wallets
                .chunks(chunk)
                .map(|wallets| {
                    scope.spawn(move || {
                        wallets
                            .iter()
                            .map(|planned| (planned.wallet.clone(), hand_in(planned)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| match worker.join() {
                    Ok(done) => done,
                    Err(_) => vec![(String::new(), Some(Err(Error::fault("a migration's worker panicked"))))],
                })
                .collect()
        })
    }

    /// The consumer's consent (`signature`, hex: theirs of the migration's event) to the
    /// migration of `wallet` that waits for it: the migration, with it, applies as
    /// [`Ledger::submit`] would. Refused, changing nothing, when no migration waits or the
    /// consent does not hold.
    pub fn consent(&self, wallet: &str, signature: &str) -> Result<Submitted> {
        if serde_json::from_value::<prepaid_contract::keys::Signature>(signature.into()).is_err() {
            return Err(Error::refused(
                RefusalCode::BadEnvelope,
                "a consent is the consumer's ed25519 signature, 128 hex digits".to_owned(),
            ));
        }
        let Some((mut envelope, ..)) = self.with_store(|store| waiting(store, wallet))? else {
            return Err(Error::refused(
                RefusalCode::MigrationRefused,
                format!("no migration of wallet {wallet} waits for its consumer's consent"),
            ));
        };
        envelope.event["consent"] = signature.into();
        let submitted = self.submit(&envelope)?;
        self.with_store(|store| store.set_waiting_migration(wallet, None))?;
        Ok(submitted)
    }

    /// The migration of `wallet` waiting for its consumer's consent, with its plan asked
    /// now, if one waits (none for a wallet closed since: nothing moves it any more).
    pub fn waiting_migration(&self, wallet: &str) -> Result<Option<WaitingMigration>> {
        let now = self.clock.now()?;
        self.with_store(|store| {
            let Some((event, asked_at, head)) = waiting(store, wallet)? else {
                return Ok(None);
            };
            let state = head
                .state
                .as_deref()
                .ok_or_else(|| Error::fault("a waiting migration of a wallet not opened"))?;
            let to = event.event.get("to").and_then(|to| to.as_str()).unwrap_or_default();
            let (old, new) = (
                self.contracts.get(store, &head.code_hash)?,
                self.contracts.get(store, to)?,
            );
            let Some(plan) = crate::plan::plan_wallet(wallet, &old, &new, state, now)? else {
                return Ok(None);
            };
            let regulator = prepaid_contract::state::Wallet::decode(state)
                .map_err(|_| Error::fault("a migration waits for consent on a state this build does not read"))?
                .regulator
                .to_string();
            Ok(Some(WaitingMigration {
                event,
                asked_at,
                regulator,
                plan,
            }))
        })
    }

    /// When the migration of `wallet` waiting for its consumer's consent was handed in, if
    /// one waits: what a notice tells them.
    pub(crate) fn migration_asked_at(&self, wallet: &str) -> Result<Option<i64>> {
        Ok(self
            .with_store(|store| waiting(store, wallet))?
            .map(|(_, asked_at, _)| asked_at))
    }
}

/// The migration of `wallet` that waits, when it was handed in, and the wallet's head:
/// only while the wallet runs the code it moves from (one moved since, by another
/// migration, waits no more).
fn waiting(store: &dyn Store, wallet: &str) -> Result<Option<(Envelope, i64, WalletHead)>> {
    let Some((event, asked_at)) = store.waiting_migration(wallet)? else {
        return Ok(None);
    };
    let envelope = Envelope::parse(&event)?;
    let Some(head) = store.wallet(wallet)? else {
        return Ok(None);
    };
    let runs = envelope.event.get("from").and_then(|from| from.as_str()) == Some(head.code_hash.as_str());
    Ok(runs.then_some((envelope, asked_at, head)))
}
