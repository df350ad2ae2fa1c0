//! The contract's rules run natively: the oracle that differential tests hold the
//! component to. Production hosts run the component; this never journals.

use prepaid_contract::{Context, EffectKind, NativeCrypto};

use crate::outcome::{EffectRecord, Outcome, WalletView};
use crate::rules::Rules;

/// The rules compiled into this binary.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeRules;

impl Rules for NativeRules {
    fn apply(&self, state: Option<&[u8]>, ctx: &Context, event: &str) -> anyhow::Result<Outcome> {
        Ok(outcome(prepaid_contract::apply(&NativeCrypto, state, ctx, event)))
    }

    fn migrate(&self, state: &[u8], from_abi: &str, ctx: &Context, event: &str) -> anyhow::Result<Outcome> {
        Ok(outcome(prepaid_contract::migrate(
            &NativeCrypto,
            state,
            from_abi,
            ctx,
            event,
        )))
    }

    fn view(&self, state: &[u8]) -> anyhow::Result<WalletView> {
        let view = prepaid_contract::view(state).map_err(|error| anyhow::anyhow!("{error}"))?;
        Ok(WalletView {
            status: view.status.as_str().into(),
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

/// The outcome of a call of the native rules (which use no fuel).
fn outcome(result: Result<prepaid_contract::Applied, prepaid_contract::ContractError>) -> Outcome {
    match result {
        Ok(applied) => {
            let effects = applied
                .effects
                .into_iter()
                .map(|effect| EffectRecord {
                    kind: match effect.kind {
                        EffectKind::Release => "release",
                        EffectKind::Refund => "refund",
                        EffectKind::Claim => "claim",
                    }
                    .into(),
                    to: effect.to.to_string(),
                    amount: effect.amount.to_string(),
                    reason: effect.reason.into(),
                })
                .collect();
            Outcome::accepted(applied.state, effects, applied.next_due, 0)
        }
        Err(error) => Outcome::rejected(error.code.as_str(), error.message, 0),
    }
}
