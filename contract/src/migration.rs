//! Migration: a wallet moves onto this component under its regulator's signature, keeping
//! every figure. The component the wallet moves to runs this (the WIT world's `migrate`),
//! on the state its previous component last returned.

use alloc::vec::Vec;

use crate::authorization::require_signature;
use crate::crypto::Crypto;
use crate::error::{reject, ContractError, ErrorCode};
use crate::event::{Context, Event};
use crate::rules::Applied;
use crate::state::Wallet;

/// The ABIs whose states this component reads: every one keeps the same wallet, as JSON
/// or (this component on) CBOR, which [`Wallet::decode`] tells apart.
pub const READS_ABIS: [&str; 3] = ["0.2.0", "0.3.0", "0.4.0"];

/// Moves the wallet in `state`, which a component on ABI `from_abi` returned, onto this
/// component, by the `migrate` event `event_json` that the wallet's regulator signed. The
/// state goes on as it was, re-encoded as this component encodes it, save the time of its
/// last event, which the migration becomes; no money moves. A closed wallet moves too: its
/// history replays on whichever code it ended on.
pub fn migrate(
    crypto: &impl Crypto,
    state: &[u8],
    from_abi: &str,
    ctx: &Context,
    event_json: &str,
) -> Result<Applied, ContractError> {
    let event = Event::parse(event_json)?;
    let Event::Migrate(_) = event else {
        return reject(ErrorCode::BadEvent, "`migrate` takes a `migrate` event");
    };
    if !READS_ABIS.contains(&from_abi) {
        return reject(
            ErrorCode::BadEvent,
            alloc::format!("this component reads the states of ABI 0.2.0, 0.3.0 and 0.4.0, not {from_abi}"),
        );
    }
    let mut wallet = Wallet::decode(state)?;
    require_signature(crypto, ctx, &event, &wallet.regulator, "regulator")?;
    if ctx.timestamp < wallet.last_at {
        return reject(
            ErrorCode::TimeBackwards,
            alloc::format!(
                "the migration's time ({}) is before the wallet's last event ({}); events of a wallet must come in time order",
                ctx.timestamp, wallet.last_at
            ),
        );
    }
    wallet.last_at = ctx.timestamp;
    Ok(Applied::new(&wallet, Vec::new()))
}

#[cfg(test)]
mod tests {
    use alloc::string::String;

    use super::*;
    use crate::keys::HexBytes;
    use crate::test_support::sessions_wallet;

    /// Signatures by one key are valid, any other's are not.
    struct Signer([u8; 32]);

    impl Crypto for Signer {
        fn ed25519_verify(&self, public_key: &[u8; 32], _: &[u8], _: &[u8; 64]) -> bool {
            *public_key == self.0
        }

        fn sha256(&self, _: &[u8]) -> [u8; 32] {
            [0; 32]
        }
    }

    fn ctx(timestamp: i64) -> Context {
        Context {
            wallet: "w1".into(),
            event_id: "m1".into(),
            timestamp,
            signature: Some(HexBytes([9; 64])),
        }
    }

    fn event() -> String {
        alloc::format!(
            r#"{{"type": "migrate", "from": "{}", "to": "{}"}}"#,
            "1".repeat(64),
            "2".repeat(64)
        )
    }

    #[test]
    fn the_regulator_moves_a_wallet_and_nothing_else_changes() {
        let mut wallet = sessions_wallet(10, "1000.00", "120.00");
        wallet.last_at = 50;
        let state = wallet.encode();
        let regulator = Signer(wallet.regulator.0);
        let moved = migrate(&regulator, &state, "0.2.0", &ctx(60), &event()).unwrap();
        assert_eq!(
            Wallet::decode(&moved.state).unwrap(),
            Wallet {
                last_at: 60,
                ..wallet.clone()
            }
        );
        assert!(moved.effects.is_empty());

        let refused = |crypto: &Signer, abi: &str, at: i64, event: &str| {
            migrate(crypto, &state, abi, &ctx(at), event).unwrap_err().code
        };
        assert_eq!(
            refused(&Signer(wallet.merchant.0), "0.2.0", 60, &event()),
            ErrorCode::BadSignature
        );
        assert_eq!(refused(&regulator, "0.1.0", 60, &event()), ErrorCode::BadEvent);
        assert_eq!(refused(&regulator, "0.2.0", 40, &event()), ErrorCode::TimeBackwards);
        assert_eq!(
            refused(&regulator, "0.2.0", 60, r#"{"type": "tick"}"#),
            ErrorCode::BadEvent
        );
    }
}
