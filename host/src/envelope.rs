//! Events as clients send them: one JSON object naming the wallet, the event id, the
//! event and the signer's signature. The journal records each with the platform's
//! timestamp, `at`, which the host adds on arrival ([`crate::clock`]).
//!
//! ```json
//! {"wallet": "w1", "id": "w1-1",
//!  "event": {"type": "request", "request": "r1", "units": 1}, "signature": "…128 hex digits…"}
//! ```
//! The envelope is checked here (nothing is recorded for a malformed one); the event
//! itself is the contract's to judge, and its verdict is recorded.

use anyhow::{anyhow, bail, Context as _, Result};
use ed25519_dalek::SigningKey;
use prepaid_contract::event::MerchantClosed;
use prepaid_contract::keys::Signature;
use prepaid_contract::{Context, Event};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::keys::{approve_terms, sign_closure, sign_event};

/// The longest wallet or event id accepted.
pub const MAX_ID_LEN: usize = 128;
/// The most bytes an event's JSON may have, however it arrives: the contract parses it
/// before it knows who signed it, so an event must never be big enough to run it out of
/// fuel or memory (a signed event is well under 4 KiB).
pub const MAX_EVENT_BYTES: usize = 64 << 10;

/// An event as a client sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The wallet the event is for.
    pub wallet: String,
    /// The event's id, unique within the wallet.
    pub id: String,
    /// The platform's timestamp, RFC 3339 in UTC ("2026-01-12T10:00:00Z"): added by the
    /// host on arrival; only a scripted clock's events carry their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The event, as the contract reads it.
    pub event: serde_json::Value,
    /// The signer's ed25519 signature, hex (none for unsigned events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Envelope {
    /// Parses and checks one event's JSON (its time, if it has one, included).
    pub fn parse(json: &str) -> Result<Envelope> {
        let raw: Envelope = serde_json::from_str(json).context("the event is not a valid raw event")?;
        raw.signature()?;
        if let Some(at) = &raw.at {
            timestamp(at)?;
        }
        Ok(raw)
    }

    /// Checks, without the component, that this `migrate` is signed by the regulator of
    /// the wallet whose state the code it moves from left (`state`): the code it moves to
    /// is not trusted to check its own admission. Err says why not. A state this build
    /// does not read natively is left to the components' check.
    pub fn migration_signed(&self, state: &[u8]) -> std::result::Result<(), String> {
        let Ok(wallet) = prepaid_contract::state::Wallet::decode(state) else {
            return Ok(());
        };
        let event = Event::parse(&self.body()).map_err(|error| error.message)?;
        let ctx = self.context().map_err(|error| format!("{error:#}"))?;
        prepaid_contract::authorization::require_signature(
            &prepaid_contract::NativeCrypto,
            &ctx,
            &event,
            &wallet.regulator,
            "regulator",
        )
        .map_err(|error| error.message)
    }

    /// Checks that this `migrate` carries the consent of the consumer of the wallet whose
    /// state is `state`: their signature of the migration, the message the regulator signs.
    /// Err says why not; a state this build does not read natively has no consumer it can
    /// check, and so no consent.
    pub fn migration_consented(&self, state: &[u8]) -> std::result::Result<(), String> {
        let wallet = prepaid_contract::state::Wallet::decode(state)
            .map_err(|_| "this build cannot read the wallet's consumer to check their consent".to_owned())?;
        let event = Event::parse(&self.body()).map_err(|error| error.message)?;
        let Event::Migrate(migrate) = &event else {
            return Err("not a migration".into());
        };
        // Checked as any signature of an event is.
        let ctx = Context {
            signature: Some(migrate.consent.ok_or("it carries no `consent`")?),
            ..self.context().map_err(|error| format!("{error:#}"))?
        };
        prepaid_contract::authorization::require_signature(
            &prepaid_contract::NativeCrypto,
            &ctx,
            &event,
            &wallet.consumer,
            "consumer",
        )
        .map_err(|error| format!("its `consent` does not hold: {}", error.message))
    }

    /// Signs the envelope with `key` (the signer whose authority the event carries): the
    /// event, or for a `merchant_closed` carrying a closure, the closure itself.
    pub fn sign(&mut self, key: &SigningKey) -> Result<()> {
        let event = Event::parse(&self.body()).map_err(|error| anyhow!("{error}"))?;
        let signature = match &event {
            Event::MerchantClosed(MerchantClosed { closure: Some(closure) }) => {
                sign_closure(key, &closure.merchant, closure.effective)
            }
            _ => sign_event(key, &self.wallet, &self.id, &event),
        };
        self.signature = Some(signature.to_string());
        Ok(())
    }

    /// Adds the regulator `key`'s approval of the terms to an `open` event (before the
    /// consumer signs it: the consumer's signature covers the approval).
    pub fn approve(&mut self, key: &SigningKey) -> Result<()> {
        if self.kind() != Some("open") {
            bail!("only `open` events carry an approval");
        }
        // A placeholder, so that the terms parse; the approval covers the terms only. It
        // stays when they do not parse, and the contract rejects the event as malformed.
        self.event["approval"] = placeholder_approval().into();
        let Event::Open(open) = Event::parse(&self.body()).map_err(|error| anyhow!("{error}"))? else {
            bail!("only `open` events carry an approval");
        };
        self.event["approval"] = approve_terms(key, &open).to_string().into();
        Ok(())
    }

    /// The event's `type` (`open`, `request`, ...), if it names one.
    pub fn kind(&self) -> Option<&str> {
        self.event.get("type").and_then(|kind| kind.as_str())
    }

    /// The event's JSON as the contract receives it.
    pub fn body(&self) -> String {
        self.event.to_string()
    }

    /// The JSON the journal records.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("raw events always serialize")
    }

    /// The envelope without its time: what identifies a submission, whenever it arrives.
    pub fn untimed(&self) -> Envelope {
        Envelope {
            at: None,
            ..self.clone()
        }
    }

    /// Checks the envelope's fields but its time, and reads its signature.
    fn signature(&self) -> Result<Option<Signature>> {
        for (name, value) in [("wallet", &self.wallet), ("id", &self.id)] {
            if value.is_empty() || value.len() > MAX_ID_LEN || value.chars().any(char::is_control) {
                bail!("`{name}` must be 1 to {MAX_ID_LEN} printable characters, got {value:?}");
            }
        }
        if !self.event.is_object() {
            bail!("`event` must be a JSON object");
        }
        if self.body().len() > MAX_EVENT_BYTES {
            bail!("`event` must be at most {MAX_EVENT_BYTES} bytes of JSON");
        }
        Ok(match &self.signature {
            None => None,
            Some(text) => Some(
                Signature::from_hex(text)
                    .with_context(|| format!("`signature` must be 64 bytes of hex, got {text:?}"))?,
            ),
        })
    }

    /// The context the contract receives, checking the envelope's fields (the time
    /// included: an envelope has one once stamped).
    pub fn context(&self) -> Result<Context> {
        let signature = self.signature()?;
        Ok(Context {
            wallet: self.wallet.clone(),
            event_id: self.id.clone(),
            timestamp: timestamp(
                self.at
                    .as_deref()
                    .context("the event has no time `at`: the host stamps it")?,
            )?,
            signature,
        })
    }
}

/// The approval an `open` carries before the regulator signs its terms: 64 zero bytes, hex.
pub(crate) fn placeholder_approval() -> String {
    Signature::from_slice(&[0; 64]).expect("64 bytes").to_string()
}

/// The RFC 3339 UTC time of `timestamp` (seconds since the Unix epoch), as `at` spells it;
/// out of range (beyond year 9999) it is refused.
pub fn rfc3339(timestamp: i64) -> Result<String> {
    let time = OffsetDateTime::from_unix_timestamp(timestamp)
        .with_context(|| format!("{timestamp} seconds since the Unix epoch is not a time `at` can name"))?;
    Ok(time.format(&Rfc3339)?)
}

/// Seconds since the Unix epoch of an RFC 3339 UTC time.
pub fn timestamp(at: &str) -> Result<i64> {
    if !at.ends_with('Z') {
        bail!("`at` must be an RFC 3339 time in UTC ending in Z, like 2026-01-05T09:00:00Z, got {at:?}");
    }
    let time = OffsetDateTime::parse(at, &Rfc3339)
        .with_context(|| format!("`at` must be an RFC 3339 time in UTC, like 2026-01-05T09:00:00Z, got {at:?}"))?;
    Ok(time.unix_timestamp())
}
