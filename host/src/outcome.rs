//! What applying one event produced, in the form the journal records and replay compares.

use serde::{Deserialize, Serialize};

/// A movement of money, or a claim on the merchant, as journaled and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectRecord {
    /// `release` (to the merchant), `refund` (to the consumer) or `claim` (owed to the
    /// consumer by the merchant, outside the wallet).
    pub kind: String,
    /// The recipient's public key (hex).
    pub to: String,
    /// The amount, with two decimals.
    pub amount: String,
    /// Why, as a stable snake_case word.
    pub reason: String,
}

impl EffectRecord {
    /// Whether the rail moves money out of the wallet for it (a release or a refund), so
    /// it goes to the outbox; a claim moves none: the platform collects it from the
    /// merchant's releases ([`crate::store::Store::append`]).
    pub fn moves_money(&self) -> bool {
        self.kind != "claim"
    }
}

/// A rejection or a deterministic trap, as journaled and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRecord {
    /// A stable snake_case code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// The recorded result of an event, as the journal stores it and scenario output shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// Whether the event was accepted.
    pub ok: bool,
    /// Why not, when rejected.
    pub error: Option<ErrorRecord>,
    /// The money moved, in order (none when rejected).
    pub effects: Vec<EffectRecord>,
}

impl Verdict {
    /// The verdict as the journal records it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("verdicts always serialize")
    }
}

/// What one contract call produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Accepted with effects, or rejected with an error.
    pub verdict: Verdict,
    /// The new state when accepted.
    pub state: Option<Vec<u8>>,
    /// When accepted: when the wallet next needs the platform's clock (the view's
    /// `next_due`).
    pub next_due: Option<i64>,
    /// Fuel the call used (0 for the native rules, which are not metered).
    pub fuel: u64,
}

impl Outcome {
    /// An accepted event.
    pub fn accepted(state: Vec<u8>, effects: Vec<EffectRecord>, next_due: Option<i64>, fuel: u64) -> Outcome {
        Outcome {
            verdict: Verdict {
                ok: true,
                error: None,
                effects,
            },
            state: Some(state),
            next_due,
            fuel,
        }
    }

    /// A rejection that changed nothing.
    pub fn rejected(code: impl Into<String>, message: impl Into<String>, fuel: u64) -> Outcome {
        let error = ErrorRecord {
            code: code.into(),
            message: message.into(),
        };
        Outcome {
            verdict: Verdict {
                ok: false,
                error: Some(error),
                effects: Vec::new(),
            },
            state: None,
            next_due: None,
            fuel,
        }
    }
}

/// A wallet's figures, as the contract's `view` gives them. Amounts have two decimals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletView {
    /// `active`, `disputed` or `closed`; a ledger's live view says `settling` for a closed
    /// wallet whose claims are not paid in full ([`crate::Ledger::wallet`]).
    pub status: String,
    /// The product kind.
    pub product: String,
    /// The consumer's key (hex).
    pub consumer: String,
    /// The merchant's key (hex).
    pub merchant: String,
    /// What the consumer paid.
    pub paid: String,
    /// What is still frozen.
    pub frozen: String,
    /// What was released to the merchant.
    pub released: String,
    /// What was refunded to the consumer.
    pub refunded: String,
    /// What pending requests would release.
    pub pending: String,
    /// What the wallet's claims record its merchant owes the consumer, outside the wallet
    /// (`0.00` on ABIs before 0.4.0, which record no claims).
    #[serde(default = "nothing_owed")]
    pub owed: String,
    /// When the platform next ticks the wallet (seconds since the Unix epoch; RFC 3339 in
    /// JSON); none when time alone will change nothing.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub next_due: Option<i64>,
}

/// What a view of an ABI without claims says is owed.
fn nothing_owed() -> String {
    "0.00".into()
}

impl WalletView {
    /// Whether `other` shows the same parties, status and money (when it is next due may
    /// differ): what a migration must keep.
    pub fn same_figures(&self, other: &WalletView) -> bool {
        WalletView {
            next_due: None,
            ..self.clone()
        } == WalletView {
            next_due: None,
            ..other.clone()
        }
    }
}

/// A request awaiting the consumer's authorization, in full (see [`WalletDetails`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingRequest {
    /// The merchant's id for it, which an authorization names.
    pub request: String,
    /// The units it consumes.
    pub units: u64,
    /// The plan stage it completes, by index, and the stage's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<u32>,
    /// The stage's name, as the terms give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_name: Option<String>,
    /// What authorizing it would release now.
    pub release: String,
    /// When the merchant asked.
    #[serde(serialize_with = "rfc3339")]
    pub requested_at: i64,
    /// When it is deemed confirmed if the consumer does nothing.
    #[serde(skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub deemed_at: Option<i64>,
    /// Whether a dispute names it.
    pub disputed: bool,
}

/// What a consumer needs to decide, besides the figures: every pending request in full,
/// what is left, and the dates that change what a refund returns. Computed from the state
/// by the contract crate built into this host (`prepaid_contract::details`), for reading
/// only: the money an event moves is always the wallet's own component's answer (a dry run
/// asks it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WalletDetails {
    /// The requests awaiting authorization, oldest first.
    pub requests: Vec<PendingRequest>,
    /// Units neither consumed nor asked for.
    pub units_left: u64,
    /// A plan's stages neither completed nor asked for, by name.
    pub stages_left: Vec<String>,
    /// When the cooling-off period ends.
    #[serde(serialize_with = "rfc3339")]
    pub cooling_off_ends: i64,
    /// When the wallet expires, if the policy limits it.
    #[serde(skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub expires_at: Option<i64>,
    /// When what a refund left to the regulator goes back, if a refund left any.
    #[serde(skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub refund_hold_ends: Option<i64>,
    /// When a re-key under way gives the wallet to a new key.
    #[serde(skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub rekey_effective_at: Option<i64>,
    /// Whether the consumer's payment has yet to reach the wallet (nothing is frozen yet).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_funding: bool,
    /// The payment rail's reference for the payment that funded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rail_reference: Option<String>,
}

impl WalletDetails {
    /// The details of the state bytes `state`.
    pub fn of(state: &[u8]) -> crate::Result<WalletDetails> {
        let details = prepaid_contract::details(state)
            .map_err(|error| crate::Error::fault(format!("reading a wallet's details: {error}")))?;
        Ok(WalletDetails {
            requests: details
                .requests
                .into_iter()
                .map(|request| PendingRequest {
                    request: request.id,
                    units: request.units,
                    stage: request.stage.as_ref().map(|(index, _)| *index),
                    stage_name: request.stage.map(|(_, name)| name),
                    release: request.release.to_string(),
                    requested_at: request.requested_at,
                    deemed_at: request.deemed_at,
                    disputed: request.disputed,
                })
                .collect(),
            units_left: details.units_left,
            stages_left: details.stages_left.into_iter().map(|(_, name)| name).collect(),
            cooling_off_ends: details.cooling_off_ends,
            expires_at: details.expires_at,
            refund_hold_ends: details.refund_hold_ends,
            rekey_effective_at: details.rekey.map(|(_, at)| at),
            awaiting_funding: details.awaiting_funding,
            rail_reference: details.rail_reference,
        })
    }
}

/// A time as RFC 3339 in JSON, like every `at`.
pub(crate) fn rfc3339<S: serde::Serializer>(time: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::envelope::rfc3339(*time).map_err(serde::ser::Error::custom)?)
}

/// Times as RFC 3339 in JSON, like every `at`.
pub(crate) mod rfc3339_option {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => super::rfc3339(time, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|at| crate::envelope::timestamp(&at).map_err(D::Error::custom))
            .transpose()
    }
}

/// The SHA-256 of `bytes`, as lower-case hex: code hashes, state hashes, entry hashes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Whether `text` is 64 lower-case hex digits: a SHA-256 hash as [`sha256_hex`] writes it,
/// or a public key.
pub(crate) fn is_hex64(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}
