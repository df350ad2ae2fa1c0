//! Signed notes, in the C2SP signed-note format (<https://c2sp.org/signed-note>): a text
//! body ending in a newline, a blank line, then one line per signature,
//! `— <key name> <base64 of the key id and the signature>`. The key id is the first four
//! bytes of SHA-256 of the key name, a newline, the byte 0x01 (Ed25519) and the public key;
//! the signature is Ed25519 over the body, final newline included. Any tool that reads
//! signed notes reads the platform's receipts and checkpoints.

use base64::prelude::{Engine as _, BASE64_STANDARD};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use super::SignedError;

/// The name the platform's key signs under.
pub const KEY_NAME: &str = "prepaid-platform";

/// The signature line's opening: an em dash and a space.
const DASH: &str = "\u{2014} ";

/// The key id of `key` under [`KEY_NAME`].
fn key_id(key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(KEY_NAME.as_bytes());
    hasher.update(b"\n\x01");
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// `body` (which ends in a newline) signed by `key`: the note's text.
pub fn sign(key: &SigningKey, body: &str) -> String {
    debug_assert!(body.ends_with('\n') && !body.contains("\n\n"));
    let mut signature = key_id(&key.verifying_key()).to_vec();
    signature.extend_from_slice(&key.sign(body.as_bytes()).to_bytes());
    format!("{body}\n{DASH}{KEY_NAME} {}\n", BASE64_STANDARD.encode(signature))
}

/// Splits `text` into a note and what follows it (after one blank line, or nothing).
pub fn split(text: &str) -> Result<(&str, &str), SignedError> {
    let body_end = text
        .find("\n\n")
        .ok_or_else(|| SignedError::Malformed("no blank line after the note's body".into()))?;
    let rest = &text[body_end + 2..];
    let signatures = rest.find("\n\n").map_or(rest.len(), |end| end + 1);
    let note_end = body_end + 2 + signatures;
    let after = text[note_end..].strip_prefix('\n').unwrap_or(&text[note_end..]);
    Ok((&text[..note_end], after))
}

/// The body of `note` if one of its signatures is `key`'s, under [`KEY_NAME`].
pub fn open<'a>(note: &'a str, key: &VerifyingKey) -> Result<&'a str, SignedError> {
    let (body, signatures) = note
        .split_once("\n\n")
        .map(|(body, signatures)| (&note[..body.len() + 1], signatures))
        .ok_or_else(|| SignedError::Malformed("no blank line after the note's body".into()))?;
    if signatures.is_empty() || !signatures.ends_with('\n') {
        return Err(SignedError::Malformed("the note has no signature lines".into()));
    }
    let wanted = key_id(key);
    for line in signatures.lines() {
        let Some((name, encoded)) = line.strip_prefix(DASH).and_then(|line| line.split_once(' ')) else {
            return Err(SignedError::Malformed(format!("not a signature line: {line:?}")));
        };
        let bytes = BASE64_STANDARD
            .decode(encoded)
            .map_err(|_| SignedError::Malformed(format!("a signature that is not base64: {line:?}")))?;
        if name != KEY_NAME || bytes.len() != 68 || bytes[..4] != wanted {
            continue;
        }
        let signature = Signature::from_slice(&bytes[4..]).expect("64 bytes");
        // Strict: no small-order keys or non-canonical signatures, which would let one
        // signature pass for several notes.
        return match key.verify_strict(body.as_bytes(), &signature) {
            Ok(()) => Ok(body),
            Err(_) => Err(SignedError::BadSignature),
        };
    }
    Err(SignedError::NotSigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_opens_under_its_key_only_and_not_once_changed() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let note = sign(&key, "origin\n2\nroot\n");
        assert_eq!(open(&note, &key.verifying_key()).unwrap(), "origin\n2\nroot\n");
        assert!(matches!(
            open(&note, &other.verifying_key()),
            Err(SignedError::NotSigned)
        ));
        let changed = note.replacen('2', "3", 1);
        assert!(matches!(
            open(&changed, &key.verifying_key()),
            Err(SignedError::BadSignature)
        ));
        let file = format!("{note}\nleaf 1\n");
        let (split_note, after) = split(&file).unwrap();
        assert_eq!((split_note, after), (note.as_str(), "leaf 1\n"));
        assert_eq!(split(&note).unwrap(), (note.as_str(), ""));
    }
}
