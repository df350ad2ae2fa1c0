//! The platform's trust file: which regulators may approve terms and which contract
//! components wallets may be opened on.
//!
//! The contract checks that an `open` carries the approval of the regulator it names, but
//! it cannot know who the regulators are: anyone with a key pair can name itself. The
//! platform does know, and says so in a file it configures:
//!
//! ```json
//! {"regulators": [{"key": "<hex>", "name": "...", "region": "..."}], "components": ["<code hash>"],
//!  "revoked": ["<code hash>"]}
//! ```
//!
//! A ledger given a [`Trust`] refuses an `open` naming any other regulator
//! ([`RefusalCode::UntrustedRegulator`]) or made while the ledger opens wallets on a
//! component the file does not list ([`RefusalCode::UntrustedComponent`]), and records
//! nothing. A component the file marks `revoked` (optional) opens no wallet, and the wallets
//! that run it pay no one but their consumer ([`RefusalCode::ComponentRevoked`] otherwise)
//! save by the consumer's refund, the regulator's rulings and closures, and a migration
//! away; they are not ticked. [`crate::verify::untrusted_wallets`] names the wallets of a journal that are outside a trust
//! file, for an auditor.

use std::path::Path;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use crate::envelope::Envelope;
use crate::error::{Error, RefusalCode, Result};
use crate::outcome::{is_hex64, Verdict};

/// The trust file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// The regulators whose approval an `open` may carry.
    pub regulators: Vec<Regulator>,
    /// The code hashes of the components wallets may be opened on.
    pub components: Vec<String>,
    /// The code hashes of components found wrong: no wallet opens on them, and the
    /// wallets that run them pay no merchant until they migrate away.
    #[serde(default)]
    pub revoked: Vec<String>,
}

/// A regulator the platform trusts.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regulator {
    /// Its ed25519 public key, 64 lower-case hex digits.
    pub key: String,
    /// Who it is.
    pub name: String,
    /// Where it supervises.
    pub region: String,
}

/// A wallet outside a trust file, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Untrusted {
    /// The wallet.
    pub wallet: String,
    /// What the trust file does not list.
    pub reason: String,
}

impl Trust {
    /// Reads and checks the trust file at `path`.
    pub fn load(path: &Path) -> Result<Trust> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the trust file {}", path.display()))?;
        Trust::parse(&text).map_err(|error| Error::Fault(error.context(format!("the trust file {}", path.display()))))
    }

    /// Parses and checks a trust file's JSON: keys and code hashes are 64 lower-case hex
    /// digits, and both lists name at least one, since a file that trusts nobody would
    /// refuse every `open`.
    pub fn parse(text: &str) -> anyhow::Result<Trust> {
        let trust: Trust = serde_json::from_str(text).context(
            r#"expected {"regulators": [{"key": "<hex>", "name": "...", "region": "..."}], "components": ["<code hash>"]}"#,
        )?;
        if trust.regulators.is_empty() || trust.components.is_empty() {
            bail!("it must list at least one regulator and one component");
        }
        for regulator in &trust.regulators {
            if !is_hex64(&regulator.key) {
                bail!(
                    "regulator {:?}: `key` must be an ed25519 public key as 64 lower-case hex digits",
                    regulator.name
                );
            }
        }
        for component in trust.components.iter().chain(&trust.revoked) {
            if !is_hex64(component) {
                bail!(
                    "component {component:?}: a code hash is 64 lower-case hex digits (`prepaid contract hash FILE`)"
                );
            }
        }
        if let Some(both) = trust.revoked.iter().find(|revoked| trust.components.contains(revoked)) {
            bail!("component {both:?} is both trusted and revoked: list it in one of `components` and `revoked`");
        }
        Ok(trust)
    }

    /// The trusted regulator with `key`, if any.
    pub fn regulator(&self, key: &str) -> Option<&Regulator> {
        self.regulators.iter().find(|regulator| regulator.key == key)
    }

    /// Whether `code_hash` is a trusted component (listed, and not revoked).
    pub fn trusts_component(&self, code_hash: &str) -> bool {
        self.components.iter().any(|component| component == code_hash) && !self.is_revoked(code_hash)
    }

    /// Whether `code_hash` is a revoked component.
    pub fn is_revoked(&self, code_hash: &str) -> bool {
        self.revoked.iter().any(|revoked| revoked == code_hash)
    }

    /// Refuses the outcome of `envelope` on a wallet that runs revoked code (`code_hash`,
    /// the code before the event) if it would pay anyone but the wallet's consumer
    /// (`consumer`, asked only then), whatever the effect calls itself: only the consumer's
    /// `refund` (which may pay the merchant what these rules say was used), the regulator's
    /// `resolve` and `merchant_closed`, and a `migrate` away go through whole. So the
    /// consumer's money stays theirs to take, and the merchant waits for new code. (Its
    /// wallets are not ticked: see [`crate::Ledger::tick_due`].)
    pub fn admit_outcome(
        &self,
        code_hash: &str,
        envelope: &Envelope,
        verdict: &Verdict,
        consumer: impl FnOnce() -> Result<String>,
    ) -> Result<()> {
        if !self.is_revoked(code_hash)
            || verdict.effects.is_empty()
            || matches!(
                envelope.kind(),
                Some("refund" | "resolve" | "merchant_closed" | "migrate")
            )
        {
            return Ok(());
        }
        let consumer = consumer()?;
        if verdict.effects.iter().all(|effect| effect.to == consumer) {
            return Ok(());
        }
        Err(Error::refused(
            RefusalCode::ComponentRevoked,
            format!(
                "wallet {} runs component {code_hash}, which this platform has revoked: it pays no one but the \
                 consumer until its regulator migrates it onto trusted code; the consumer's refund, rulings, a \
                 closure and the migration go on",
                envelope.wallet
            ),
        ))
    }

    /// Refuses `envelope` if it is an `open` naming a regulator this file does not list,
    /// or one that would run on a component it does not list: `component` says which (the
    /// wallet's pinned one, or the one new wallets get), asked only for an `open`; or a
    /// `migrate` onto a component it does not list. Other events pass: their wallet was
    /// opened under the trust it had then.
    pub fn admit(&self, envelope: &Envelope, component: impl FnOnce() -> Result<Option<String>>) -> Result<()> {
        if envelope.kind() == Some("migrate") {
            // A wallet moves only onto code the platform trusts, as it opens only on such.
            let to = envelope.event.get("to").and_then(|to| to.as_str()).unwrap_or_default();
            if !self.trusts_component(to) {
                return Err(Error::refused(
                    RefusalCode::UntrustedComponent,
                    format!("the migration moves the wallet onto component {to}, which this platform's trust file does not list"),
                ));
            }
            return Ok(());
        }
        if envelope.kind() != Some("open") {
            return Ok(());
        }
        let regulator = envelope
            .event
            .get("regulator")
            .and_then(|key| key.as_str())
            .unwrap_or_default();
        if self.regulator(regulator).is_none() {
            return Err(Error::refused(
                RefusalCode::UntrustedRegulator,
                format!(
                    "the open names regulator {regulator:?}, which this platform's trust file does not list; \
                     terms must be approved by one of its regulators"
                ),
            ));
        }
        match component()? {
            Some(code_hash) if self.trusts_component(&code_hash) => Ok(()),
            other => Err(Error::refused(
                RefusalCode::UntrustedComponent,
                format!(
                    "this open would run on component {}, which this platform's trust file does not list",
                    other.as_deref().unwrap_or("(none installed)")
                ),
            )),
        }
    }
}
