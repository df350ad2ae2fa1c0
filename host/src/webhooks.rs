//! Webhooks: the notices of a party (see [`crate::notices`]) posted to an address the
//! platform registered ([`crate::registry::Webhook`]), signed by the platform's key, at
//! least once. A notice's id is the delivery's id, the same on every attempt, so a
//! receiver acts on each once. An attempt that fails (no answer, or not 2xx) is tried
//! again with a backoff that doubles, up to [`MAX_ATTEMPTS`]; every attempt's result is
//! kept in the store's delivery log. `prepaid serve` delivers every tick round.

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::notices::Notice;
use crate::registry::Webhook;

/// The most attempts one notice gets.
pub const MAX_ATTEMPTS: u32 = 12;
/// The longest wait between two attempts, in seconds.
pub const MAX_BACKOFF_SECONDS: i64 = 6 * 3600;
/// The header carrying the platform's signature of the body (hex).
pub const SIGNATURE_HEADER: &str = "x-prepaid-signature";
/// The header carrying the notice's id, which stays the same on every attempt.
pub const DELIVERY_HEADER: &str = "x-prepaid-delivery";

/// Where one notice's delivery to one webhook stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The webhook.
    pub webhook: String,
    /// The notice's id.
    pub notice: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the latest attempt was made (RFC 3339).
    pub last_attempt_at: String,
    /// What it got: the HTTP status, or why there was none.
    pub last_result: String,
    /// When a 2xx answer came, if one did: then no more attempts.
    pub delivered_at: Option<String>,
    /// The earliest time of the next attempt (seconds since the Unix epoch).
    pub next_attempt: i64,
}

impl Delivery {
    /// Whether the notice should be posted at `now`.
    pub fn due(delivery: Option<&Delivery>, now: i64) -> bool {
        delivery.is_none_or(|delivery| {
            delivery.delivered_at.is_none() && delivery.attempts < MAX_ATTEMPTS && delivery.next_attempt <= now
        })
    }

    /// The delivery after an attempt at `now` (RFC 3339 `at`) that got `result`, answered
    /// with 2xx if `delivered`; the next attempt waits `backoff` seconds doubled for each
    /// attempt before, at most [`MAX_BACKOFF_SECONDS`].
    pub fn attempted(
        before: Option<Delivery>,
        webhook: &str,
        notice: &str,
        (now, at): (i64, &str),
        result: String,
        delivered: bool,
        backoff: i64,
    ) -> Delivery {
        let attempts = before.as_ref().map_or(0, |delivery| delivery.attempts) + 1;
        let wait = backoff
            .saturating_mul(1 << (attempts - 1).min(30))
            .min(MAX_BACKOFF_SECONDS);
        Delivery {
            webhook: webhook.to_owned(),
            notice: notice.to_owned(),
            attempts,
            last_attempt_at: at.to_owned(),
            last_result: result,
            delivered_at: delivered.then(|| at.to_owned()),
            next_attempt: now.saturating_add(wait),
        }
    }
}

/// The body posted for `notice` to `hook`.
pub fn payload(hook: &Webhook, notice: &Notice) -> String {
    serde_json::json!({"webhook": hook.webhook, "id": notice.id, "notice": notice}).to_string()
}

/// The platform's signature (hex) of `body`: over `prepaid-webhook/v1`, a line feed and the
/// body, so it stands for nothing else the platform signs.
pub fn sign(key: &SigningKey, body: &str) -> String {
    hex::encode(key.sign(message(body).as_bytes()).to_bytes())
}

/// Whether `signature` (hex) is the platform key `platform`'s signature of `body`: what a
/// receiver checks before acting.
pub fn verify(platform: &VerifyingKey, body: &str, signature: &str) -> bool {
    hex::decode(signature)
        .ok()
        .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
        .is_some_and(|signature| platform.verify_strict(message(body).as_bytes(), &signature).is_ok())
}

fn message(body: &str) -> String {
    format!("prepaid-webhook/v1\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_back_off_and_stop_once_delivered_or_spent() {
        let first = Delivery::attempted(None, "H1", "n", (1000, "t"), "500".into(), false, 30);
        assert_eq!((first.attempts, first.next_attempt), (1, 1030));
        assert!(!Delivery::due(Some(&first), 1029) && Delivery::due(Some(&first), 1030));
        let second = Delivery::attempted(Some(first), "H1", "n", (1030, "t"), "timeout".into(), false, 30);
        assert_eq!(second.next_attempt, 1030 + 60);
        let done = Delivery::attempted(Some(second), "H1", "n", (1090, "t"), "200".into(), true, 30);
        assert_eq!(done.attempts, 3);
        assert!(!Delivery::due(Some(&done), i64::MAX));
        let mut spent = done.clone();
        (spent.delivered_at, spent.attempts) = (None, MAX_ATTEMPTS);
        assert!(!Delivery::due(Some(&spent), i64::MAX));
        let late = Delivery::attempted(Some(spent), "H1", "n", (0, "t"), "500".into(), false, 30);
        assert_eq!(late.next_attempt, MAX_BACKOFF_SECONDS);
        assert!(Delivery::due(None, 0));
    }

    #[test]
    fn a_payload_verifies_under_the_platform_key_only_as_sent() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let body = r#"{"id":"w1/request_waiting/r1/1"}"#;
        let signature = sign(&key, body);
        assert!(verify(&key.verifying_key(), body, &signature));
        assert!(!verify(&key.verifying_key(), &body.replace("r1", "r2"), &signature));
        assert!(!verify(
            &SigningKey::from_bytes(&[8; 32]).verifying_key(),
            body,
            &signature
        ));
    }
}
