//! What the platform signs with its key, so that history cannot be rewritten unnoticed:
//! a [`Receipt`] for every entry it journals, which the consumer's app keeps, and a
//! [`Checkpoint`] of every wallet's head, a Merkle tree (RFC 6962 hashing) that auditors
//! keep and check each new one against. Both are C2SP signed notes ([`note`]); the formats
//! are in docs/AUDITORS.md.
//!
//! A receipt binds the platform to one entry: a journal that later lacks it, or holds
//! another entry at its seq, is caught by `prepaid receipt check`. A checkpoint binds it to
//! every wallet's head at once: `prepaid verify --checkpoint` names each wallet that is
//! missing, shorter or different since, and `prepaid checkpoint check` that a later
//! checkpoint extends an earlier one.

pub mod merkle;
pub mod note;
mod receipt;

use std::fmt;

use base64::prelude::{Engine as _, BASE64_STANDARD};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

pub use receipt::Receipt;

use merkle::{Hash, Tree};

/// Why a signed document is not what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedError {
    /// It is not in the documented format.
    #[error("malformed: {0}")]
    Malformed(String),
    /// No signature on it is by the key given.
    #[error("not signed by the platform key given")]
    NotSigned,
    /// It carries a signature by the key given that does not verify: it was changed.
    #[error("its signature by the platform key does not verify: it was changed after signing")]
    BadSignature,
    /// It is signed, but what it lists does not give what it states (the leaves do not
    /// hash to the signed root, a proof does not lead to it).
    #[error("{0}")]
    Mismatch(String),
}

/// Reads a platform public key given as 64 hex digits.
pub fn platform_key(hex_key: &str) -> anyhow::Result<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut bytes)
        .map_err(|_| anyhow::anyhow!("a platform key is 64 hex digits, got {hex_key:?}"))?;
    let key =
        VerifyingKey::from_bytes(&bytes).map_err(|_| anyhow::anyhow!("{hex_key} is not an Ed25519 public key"))?;
    if key.is_weak() {
        anyhow::bail!("{hex_key} is a weak (small-order) Ed25519 key, under which signatures prove nothing");
    }
    Ok(key)
}

/// One wallet as a checkpoint states it: its head entry and its acknowledgements.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Leaf {
    /// The wallet.
    pub wallet: String,
    /// How many entries it had.
    pub seq: u64,
    /// The hash of its entry at `seq`.
    pub head_hash: String,
    /// How many of its effects the payment rail had acknowledged.
    pub acks: u64,
    /// The hash of its latest acknowledgement record.
    pub ack_hash: String,
}

impl Leaf {
    /// The leaf's line in a checkpoint file, which is also its data in the tree: the
    /// wallet as a JSON string, then seq, head hash, acknowledgements and their hash.
    pub fn line(&self) -> String {
        let wallet = serde_json::to_string(&self.wallet).expect("strings serialize");
        format!(
            "{wallet} {} {} {} {}",
            self.seq, self.head_hash, self.acks, self.ack_hash
        )
    }

    /// Reads a leaf's line.
    pub fn parse(line: &str) -> Result<Leaf, SignedError> {
        let bad = || SignedError::Malformed(format!("not a leaf line: {line:?}"));
        let (wallet, rest) = json_string(line).ok_or_else(bad)?;
        let fields: Vec<&str> = rest.split(' ').collect();
        let [seq, head_hash, acks, ack_hash] = fields[..] else {
            return Err(bad());
        };
        let leaf = Leaf {
            wallet,
            seq: seq.parse().map_err(|_| bad())?,
            head_hash: hash_hex(head_hash).ok_or_else(bad)?,
            acks: acks.parse().map_err(|_| bad())?,
            ack_hash: hash_hex(ack_hash).ok_or_else(bad)?,
        };
        match leaf.line() == line {
            true => Ok(leaf),
            false => Err(bad()),
        }
    }

    fn hash(&self) -> Hash {
        merkle::leaf_hash(self.line().as_bytes())
    }
}

/// `text` as a JSON string at the start of `line`, and what follows it after one space.
fn json_string(line: &str) -> Option<(String, &str)> {
    let mut stream = serde_json::Deserializer::from_str(line).into_iter::<String>();
    let text = stream.next()?.ok()?;
    let rest = line[stream.byte_offset()..].strip_prefix(' ')?;
    Some((text, rest))
}

/// `text` if it is a SHA-256 hash in lowercase hex.
fn hash_hex(text: &str) -> Option<String> {
    crate::outcome::is_hex64(text).then(|| text.to_owned())
}

/// The first line of a checkpoint's note (its origin, in C2SP's terms).
const CHECKPOINT_ORIGIN: &str = "prepaid-platform/checkpoint/v1";

/// A checkpoint's signed statement: how many wallets, their tree's root and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// How many wallets (leaves).
    pub size: u64,
    /// The root of their tree.
    pub root: Hash,
    /// When the platform took it (RFC 3339).
    pub time: String,
    /// The signed note itself.
    pub note: String,
}

impl TreeHead {
    /// The tree head a note signed by `key` states.
    pub fn open(note: &str, key: &VerifyingKey) -> Result<TreeHead, SignedError> {
        let body = note::open(note, key)?;
        let bad = || SignedError::Malformed(format!("not a checkpoint: {body:?}"));
        let lines: Vec<&str> = body.lines().collect();
        let [CHECKPOINT_ORIGIN, size, root, time] = lines[..] else {
            return Err(bad());
        };
        let root: Hash = BASE64_STANDARD
            .decode(root)
            .ok()
            .and_then(|root| root.try_into().ok())
            .ok_or_else(bad)?;
        let time = time.strip_prefix("time ").ok_or_else(bad)?;
        crate::envelope::timestamp(time).map_err(|_| bad())?;
        Ok(TreeHead {
            size: size.parse().map_err(|_| bad())?,
            root,
            time: time.to_owned(),
            note: note.to_owned(),
        })
    }
}

/// Every wallet's head at one time, signed: the tree head and the leaves it covers.
pub struct Checkpoint {
    /// What the platform signed.
    pub head: TreeHead,
    /// Every wallet, in byte order of their ids.
    pub leaves: Vec<Leaf>,
    tree: Tree,
}

impl Checkpoint {
    /// Signs a checkpoint of `leaves` at `time` (RFC 3339) with `key`; refuses a leaf whose
    /// hashes are not hashes (a damaged head), which would make the file unreadable or its
    /// lines ambiguous.
    pub fn sign(mut leaves: Vec<Leaf>, time: &str, key: &SigningKey) -> Result<Checkpoint, SignedError> {
        if let Some(leaf) = leaves
            .iter()
            .find(|leaf| hash_hex(&leaf.head_hash).is_none() || hash_hex(&leaf.ack_hash).is_none())
        {
            return Err(SignedError::Malformed(format!(
                "the head of wallet {} holds something other than hashes; run `prepaid verify`",
                crate::text::printable(&leaf.wallet)
            )));
        }
        // Byte order, whatever order (collation) the store listed them in.
        leaves.sort_unstable();
        let tree = Tree::new(leaves.iter().map(Leaf::hash).collect());
        let body = format!(
            "{CHECKPOINT_ORIGIN}\n{}\n{}\ntime {time}\n",
            tree.size(),
            BASE64_STANDARD.encode(tree.root())
        );
        let head = TreeHead {
            size: tree.size(),
            root: tree.root(),
            time: time.to_owned(),
            note: note::sign(key, &body),
        };
        Ok(Checkpoint { head, leaves, tree })
    }

    /// The checkpoint file: the signed note, a blank line, then a line per leaf.
    pub fn to_file(&self) -> String {
        let mut file = self.head.note.clone();
        file.push('\n');
        for leaf in &self.leaves {
            file.push_str(&leaf.line());
            file.push('\n');
        }
        file
    }

    /// Reads a checkpoint file, checking that `key` signed it and that its leaves give
    /// the signed root.
    pub fn read(file: &str, key: &VerifyingKey) -> Result<Checkpoint, SignedError> {
        let (note, leaves) = note::split(file)?;
        let head = TreeHead::open(note, key)?;
        if leaves.is_empty() && head.size > 0 {
            return Err(SignedError::Malformed(
                "this is a checkpoint's note without its wallets: get the whole file (`GET /v1/checkpoint?leaves=true`, \
                 or `prepaid checkpoint`), or hold a bundle to it through the proofs the bundle carries"
                    .into(),
            ));
        }
        let leaves = leaves.lines().map(Leaf::parse).collect::<Result<Vec<_>, _>>()?;
        if let Some(pair) = leaves.windows(2).find(|pair| pair[0].wallet >= pair[1].wallet) {
            return Err(SignedError::Malformed(format!(
                "the leaves are not in order of wallet, once each, at {:?}",
                pair[1].wallet
            )));
        }
        let tree = Tree::new(leaves.iter().map(Leaf::hash).collect());
        if (tree.size(), tree.root()) != (head.size, head.root) {
            return Err(SignedError::Mismatch(format!(
                "the checkpoint's {} leaves do not give the root it signs for {} wallets",
                leaves.len(),
                head.size
            )));
        }
        Ok(Checkpoint { head, leaves, tree })
    }

    /// The leaf of `wallet`, if the checkpoint lists it.
    pub fn leaf(&self, wallet: &str) -> Option<&Leaf> {
        self.position(wallet).map(|index| &self.leaves[index])
    }

    fn position(&self, wallet: &str) -> Option<usize> {
        self.leaves
            .binary_search_by(|leaf| leaf.wallet.as_str().cmp(wallet))
            .ok()
    }

    /// The proof that the checkpoint lists `wallet` as it does.
    pub fn proof(&self, wallet: &str) -> Option<Proof> {
        let index = self.position(wallet)?;
        let path = self.tree.proof(index as u64).expect("a listed leaf has a proof");
        Some(Proof {
            leaf: self.leaves[index].clone(),
            index: index as u64,
            path: path.iter().map(hex::encode).collect(),
            checkpoint: self.head.note.clone(),
        })
    }
}

/// A checkpoint of `leaves`, every wallet's head as a store lists them
/// ([`crate::store::Store::leaves`]), now (the host's clock), signed with the platform's
/// `key`.
pub fn checkpoint(leaves: Vec<Leaf>, key: &SigningKey) -> crate::Result<Checkpoint> {
    let time = crate::envelope::rfc3339(crate::clock::Clock::System.now()?)?;
    Checkpoint::sign(leaves, &time, key).map_err(|error| crate::Error::fault(format!("signing a checkpoint: {error}")))
}

/// That a checkpoint lists one wallet as it does: the leaf, its place in the tree, the
/// audit path, and the checkpoint's signed note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// The wallet as the checkpoint lists it.
    pub leaf: Leaf,
    /// Its index among the checkpoint's leaves.
    pub index: u64,
    /// The hashes from its sibling up to the root (hex).
    pub path: Vec<String>,
    /// The checkpoint's signed note.
    pub checkpoint: String,
}

impl Proof {
    /// The checkpoint's tree head, if `key` signed it and the proof leads to its root.
    pub fn verify(&self, key: &VerifyingKey) -> Result<TreeHead, SignedError> {
        let head = TreeHead::open(&self.checkpoint, key)?;
        let path = self
            .path
            .iter()
            .map(|hash| hash_hex(hash).and_then(|hash| hex::decode(hash).ok()?.try_into().ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or_else(|| SignedError::Malformed("a proof's path holds something other than hashes".into()))?;
        match merkle::verify_inclusion(&self.leaf.hash(), self.index, head.size, &path, &head.root) {
            true => Ok(head),
            false => Err(SignedError::Mismatch(format!(
                "the proof for wallet {} does not lead to the checkpoint's root",
                crate::text::printable(&self.leaf.wallet)
            ))),
        }
    }
}

/// The leaves `proofs` prove, and the one checkpoint they all lead to: `note`'s, if given
/// (the checkpoint an auditor kept), else the one the first proof names. Refused when a
/// proof does not verify under `key`, proofs lead to different checkpoints, or a wallet
/// has more than one: a bundle is held to one checkpoint, once per wallet.
pub fn proven_leaves(
    proofs: Vec<Proof>,
    key: &VerifyingKey,
    note: Option<&TreeHead>,
) -> Result<(TreeHead, Vec<Leaf>), SignedError> {
    let mut checkpoint: Option<TreeHead> = note.cloned();
    let mut leaves: Vec<Leaf> = Vec::new();
    for proof in proofs {
        let wallet = crate::text::printable(&proof.leaf.wallet);
        let head = proof.verify(key)?;
        match &checkpoint {
            Some(kept) if *kept != head => {
                return Err(SignedError::Mismatch(format!(
                    "the proof for wallet {wallet} is from the checkpoint of {}, not that of {}",
                    head.time, kept.time
                )))
            }
            Some(_) => {}
            None => checkpoint = Some(head),
        }
        if leaves.iter().any(|leaf| leaf.wallet == proof.leaf.wallet) {
            return Err(SignedError::Malformed(format!(
                "more than one proof for wallet {wallet}"
            )));
        }
        leaves.push(proof.leaf);
    }
    let checkpoint = checkpoint.ok_or_else(|| {
        SignedError::Malformed("there are no proofs (a bundle carries them when exported with --checkpoint)".into())
    })?;
    Ok((checkpoint, leaves))
}

impl fmt::Display for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seq {} (entry {}), {} acknowledged",
            self.seq, self.head_hash, self.acks
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(wallet: &str, seq: u64) -> Leaf {
        Leaf {
            wallet: wallet.into(),
            seq,
            head_hash: format!("{seq:064x}"),
            acks: 0,
            ack_hash: crate::journal::GENESIS_HASH.into(),
        }
    }

    #[test]
    fn a_checkpoint_reads_back_with_proofs_for_every_wallet_and_not_once_edited() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let leaves = vec![leaf("gym \"bob\"", 2), leaf("gym-alice", 4), leaf("a", 1)];
        let checkpoint = Checkpoint::sign(leaves, "2026-11-28T10:00:00Z", &key).unwrap();
        let file = checkpoint.to_file();
        let read = Checkpoint::read(&file, &key.verifying_key()).unwrap();
        assert_eq!(read.leaves, checkpoint.leaves);
        assert_eq!(read.head, checkpoint.head);
        for leaf in &read.leaves {
            let proof = read.proof(&leaf.wallet).unwrap();
            assert_eq!(proof.verify(&key.verifying_key()).unwrap(), read.head);
            let mut forged = proof.clone();
            forged.leaf.seq += 1;
            assert!(matches!(
                forged.verify(&key.verifying_key()),
                Err(SignedError::Mismatch(_))
            ));
        }
        let edited = file.replace("gym-alice\" 4", "gym-alice\" 3");
        assert!(matches!(
            Checkpoint::read(&edited, &key.verifying_key()),
            Err(SignedError::Mismatch(_))
        ));
        let dropped: String = file
            .lines()
            .filter(|line| !line.starts_with("\"a\""))
            .map(|line| format!("{line}\n"))
            .collect();
        assert!(Checkpoint::read(&dropped, &key.verifying_key()).is_err());
        let other = SigningKey::from_bytes(&[4; 32]);
        assert!(matches!(
            Checkpoint::read(&file, &other.verifying_key()),
            Err(SignedError::NotSigned)
        ));
    }
}
