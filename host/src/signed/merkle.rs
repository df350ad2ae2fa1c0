//! Merkle trees with RFC 6962 hashing (Certificate Transparency, section 2.1): a leaf
//! hashes as SHA-256(0x00 ‖ data), a node as SHA-256(0x01 ‖ left ‖ right), and a tree of
//! n leaves splits at the largest power of two below n. Built level by level, the last
//! node of an odd level moving up unhashed, which gives the same tree.

use sha2::{Digest as _, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of a leaf whose data is `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0]).chain_update(data).finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([1])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// A tree over leaf hashes, every level kept, so that any leaf's proof is read off it.
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// The tree over `leaves` (leaf hashes, in order).
    pub fn new(leaves: Vec<Hash>) -> Tree {
        let mut levels = vec![leaves];
        while levels.last().expect("one level at least").len() > 1 {
            let below = levels.last().expect("one level at least");
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    [last] => *last,
                    _ => unreachable!("chunks of two"),
                })
                .collect();
            levels.push(above);
        }
        Tree { levels }
    }

    /// How many leaves.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// The root: the tree head (SHA-256 of nothing for no leaves).
    pub fn root(&self) -> Hash {
        match self.levels.last().and_then(|top| top.first()) {
            Some(root) => *root,
            None => Sha256::digest([]).into(),
        }
    }

    /// The inclusion proof (audit path) of leaf `index`, from the leaf's sibling up.
    pub fn proof(&self, index: u64) -> Option<Vec<Hash>> {
        let mut index = usize::try_from(index)
            .ok()
            .filter(|index| *index < self.levels[0].len())?;
        let mut path = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(sibling) = level.get(index ^ 1) {
                path.push(*sibling);
            }
            index /= 2;
        }
        Some(path)
    }
}

/// Whether `path` proves leaf `index`, hashing to `leaf`, in a tree of `size` leaves whose
/// root is `root` (RFC 9162, section 2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode, mut hash) = (index, size - 1, *leaf);
    for sibling in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            hash = node_hash(sibling, &hash);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            hash = node_hash(&hash, sibling);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && hash == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962 as its own definition states it, recursively: what the levels must equal.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                // The largest power of two below n.
                let split = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&reference_root(&leaves[..split]), &reference_root(&leaves[split..]))
            }
        }
    }

    #[test]
    fn every_leaf_proves_against_the_root_of_every_size_and_nothing_else_does() {
        for size in 0..40u64 {
            let leaves: Vec<Hash> = (0..size).map(|index| leaf_hash(&index.to_be_bytes())).collect();
            let tree = Tree::new(leaves.clone());
            assert_eq!(tree.root(), reference_root(&leaves), "size {size}");
            for index in 0..size {
                let path = tree.proof(index).unwrap();
                assert!(verify_inclusion(
                    &leaves[index as usize],
                    index,
                    size,
                    &path,
                    &tree.root()
                ));
                let other = leaf_hash(b"other");
                assert!(!verify_inclusion(&other, index, size, &path, &tree.root()));
                if size > 1 {
                    let moved = (index + 1) % size;
                    assert!(!verify_inclusion(
                        &leaves[index as usize],
                        moved,
                        size,
                        &path,
                        &tree.root()
                    ));
                }
            }
            assert!(tree.proof(size).is_none());
        }
    }

    /// The hashing is RFC 6962's, as another implementation computes it.
    #[test]
    fn roots_and_proofs_match_an_independent_implementation() {
        use ct_merkle::mem_backed_tree::MemoryBackedTree;
        for size in 1..20u64 {
            let mut other = MemoryBackedTree::<sha2_11::Sha256, Vec<u8>>::new();
            let mut leaves = Vec::new();
            for index in 0..size {
                let data = format!("leaf {index}").into_bytes();
                leaves.push(leaf_hash(&data));
                other.push(data);
            }
            let tree = Tree::new(leaves);
            assert_eq!(
                other.root().as_bytes().as_slice(),
                tree.root().as_slice(),
                "size {size}"
            );
            for index in 0..size {
                let theirs = other.prove_inclusion(index as usize);
                let ours: Vec<u8> = tree.proof(index).unwrap().concat();
                assert_eq!(theirs.as_bytes(), ours.as_slice(), "size {size}, leaf {index}");
            }
        }
    }
}
