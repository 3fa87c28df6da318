//! RFC 6962 Merkle trees over a log's lines: the hashes (§2.1), the inclusion and
//! consistency proofs (§2.1.1, §2.1.2) and their verification (RFC 9162 §2.1.3.2,
//! §2.1.4.2), plus [`Frontier`], the few subtree hashes that summarise a tree so a writer
//! can extend it one line at a time.
//!
//! The leaves of a cnv log are its lines: leaf `i` is line `i + 1`, its data the line's
//! bytes as [`chain`](crate::ChainHash) writes them, without the newline (see
//! [`line_leaf`]). A proof is a list of hashes in RFC 6962 order (bottom-up: the leaf's
//! sibling first), which is the order the C2SP witness protocol sends them in.
//!
//! A proof does not bind the tree sizes on its own (an inclusion path for 13 leaves
//! also verifies for 12 against the same root): the sizes must come from a signed
//! checkpoint, never from the party that sent the proof.

use sha2::{Digest, Sha256};

/// A SHA-256 hash in a Merkle tree.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing.
#[must_use]
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// The hash of a leaf: `SHA-256(0x00 || data)`.
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(data)
        .finalize()
        .into()
}

/// The leaf of a log line: [`leaf_hash`] of its bytes without the newline (a line given
/// with its newline has it removed first).
#[must_use]
pub fn line_leaf(line: &[u8]) -> Hash {
    leaf_hash(line.strip_suffix(b"\n").unwrap_or(line))
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The root (RFC 6962's MTH) of the tree whose leaf hashes are `leaves`.
#[must_use]
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The inclusion proof (RFC 6962's PATH) of leaf `index` in the tree of `leaves`;
/// `None` when there is no such leaf.
#[must_use]
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    path(index, leaves, &mut out);
    Some(out)
}

fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    let n = d.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &d[..k], out);
        out.push(root(&d[k..]));
    } else {
        path(m - k, &d[k..], out);
        out.push(root(&d[..k]));
    }
}

/// The consistency proof (RFC 6962's PROOF) from the tree of the first `old` leaves to
/// the tree of all `leaves`; `None` unless `0 < old <= leaves.len()` (the proof from the
/// empty tree is empty, and is not asked of this function).
#[must_use]
pub fn consistency_proof(old: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if old == 0 || old > leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    let mut hash = |range: std::ops::Range<usize>| Some(root(&leaves[range]));
    subproof(old, 0, leaves.len(), true, &mut hash, &mut out)?;
    Some(out)
}

/// RFC 6962's SUBPROOF over the leaves `[start, start + n)`, with `m` old leaves among
/// them; `hash` gives the root of a range of leaves (absolute indices).
fn subproof(
    m: usize,
    start: usize,
    n: usize,
    whole: bool,
    hash: &mut impl FnMut(std::ops::Range<usize>) -> Option<Hash>,
    out: &mut Vec<Hash>,
) -> Option<()> {
    if m == n {
        if !whole {
            out.push(hash(start..start + n)?);
        }
        return Some(());
    }
    let k = split(n);
    if m <= k {
        subproof(m, start, k, whole, hash, out)?;
        out.push(hash(start + k..start + n)?);
    } else {
        subproof(m - k, start + k, n - k, false, hash, out)?;
        out.push(hash(start..start + k)?);
    }
    Some(())
}

/// Whether `proof` shows that the leaf `leaf` is leaf `index` of the tree of `size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
#[must_use]
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, *leaf);
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Whether `proof` shows that the tree of `old` leaves with root `old_root` is a prefix
/// of the tree of `new` leaves with root `new_root` (RFC 9162 §2.1.4.2), with the cases
/// the witness protocol adds: from the empty tree the proof is empty, and between trees
/// of the same size it is empty and the roots are equal.
#[must_use]
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> bool {
    if old > new {
        return false;
    }
    if old == 0 {
        return proof.is_empty();
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(old_root);
    }
    path.extend(proof);
    let Some((&first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

/// A tree summarised by the roots of its largest complete subtrees, one per set bit of
/// its size, from the leftmost (largest) to the rightmost: enough to compute its root,
/// to extend it one leaf at a time (amortised one node hash a leaf), and — with the
/// leaves appended since — to prove that a later tree extends it
/// ([`consistency_proof`](Self::consistency_proof)). At most 64 hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            size: 0,
            nodes: Vec::new(),
        }
    }

    /// The frontier of the tree of `size` leaves whose complete subtrees' roots are
    /// `nodes` (as [`nodes`](Self::nodes) gives them); `None` when their number is not
    /// the number of set bits of `size`.
    #[must_use]
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Option<Self> {
        (nodes.len() == size.count_ones() as usize).then_some(Self { size, nodes })
    }

    /// The frontier of the tree of `leaves`.
    #[must_use]
    pub fn of(leaves: &[Hash]) -> Self {
        let mut frontier = Self::new();
        for leaf in leaves {
            frontier.push(*leaf);
        }
        frontier
    }

    /// How many leaves the tree has.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the complete subtrees, largest first.
    #[must_use]
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends a leaf (its hash).
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            // A set bit of the size has its subtree among the nodes.
            let Some(left) = self.nodes.pop() else { break };
            hash = node_hash(&left, &hash);
            size >>= 1;
        }
        self.nodes.push(hash);
        self.size += 1;
    }

    /// The tree's root.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(&last) = nodes.next() else {
            return empty_root();
        };
        nodes.fold(last, |right, left| node_hash(left, &right))
    }

    /// The root of the complete subtree over leaves `range`, when it is one of the
    /// frontier's nodes.
    fn node(&self, range: &std::ops::Range<u64>) -> Option<Hash> {
        let mut start = 0u64;
        let mut nodes = self.nodes.iter();
        for bit in (0..u64::BITS).rev() {
            let width = 1u64 << bit;
            if self.size & width == 0 {
                continue;
            }
            let node = nodes.next()?;
            if start == range.start && start + width == range.end {
                return Some(*node);
            }
            start += width;
        }
        None
    }

    /// The consistency proof from this tree to the tree made by appending the leaves
    /// `appended` (their hashes): RFC 6962's PROOF, computed from the frontier and the
    /// new leaves alone (every hash of such a proof is a frontier node or a subtree of
    /// new leaves). Empty when nothing is appended or this tree is empty.
    #[must_use]
    pub fn consistency_proof(&self, appended: &[Hash]) -> Option<Vec<Hash>> {
        let old = usize::try_from(self.size).ok()?;
        let n = old.checked_add(appended.len())?;
        if old == 0 || appended.is_empty() {
            return Some(Vec::new());
        }
        let mut hash = |range: std::ops::Range<usize>| {
            if range.end <= old {
                self.node(&(range.start as u64..range.end as u64))
            } else if range.start >= old {
                Some(root(&appended[range.start - old..range.end - old]))
            } else {
                None
            }
        };
        let mut out = Vec::new();
        subproof(old, 0, n, true, &mut hash, &mut out)?;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// The leaves of the RFC 6962 / certificate-transparency test tree.
    const CT_LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    fn ct_leaves() -> Vec<Hash> {
        CT_LEAVES.iter().map(|h| leaf_hash(&unhex(h))).collect()
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("line {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn the_empty_tree_and_the_empty_leaf() {
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(root(&[]), empty_root());
        assert_eq!(Frontier::new().root(), empty_root());
        assert_eq!(line_leaf(b"{}\n"), leaf_hash(b"{}"));
        assert_eq!(line_leaf(b"{}"), leaf_hash(b"{}"));
    }

    #[test]
    fn roots_of_the_rfc_6962_test_tree() {
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let leaves = ct_leaves();
        for n in 1..=8 {
            assert_eq!(hex(&root(&leaves[..n])), roots[n - 1], "size {n}");
            assert_eq!(hex(&Frontier::of(&leaves[..n]).root()), roots[n - 1]);
        }
    }

    #[test]
    fn inclusion_proofs_of_the_rfc_6962_test_tree() {
        // certificate-transparency's known inclusion paths in the 8-leaf tree.
        let leaves = ct_leaves();
        let cases: [(usize, usize, &[&str]); 5] = [
            (0, 1, &[]),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
        ];
        for (index, size, path) in cases {
            let proof = inclusion_proof(index, &leaves[..size]).expect("a leaf");
            let proof_hex: Vec<String> = proof.iter().map(|h| hex(h)).collect();
            assert_eq!(proof_hex, path, "leaf {index} of {size}");
            assert!(verify_inclusion(
                &leaves[index],
                index as u64,
                size as u64,
                &proof,
                &root(&leaves[..size])
            ));
        }
        assert_eq!(inclusion_proof(8, &leaves), None);
    }

    #[test]
    fn consistency_proofs_of_the_rfc_6962_test_tree() {
        // certificate-transparency's known consistency proofs in the 8-leaf tree.
        let leaves = ct_leaves();
        let cases: [(usize, usize, &[&str]); 4] = [
            (1, 1, &[]),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (old, size, expected) in cases {
            let proof = consistency_proof(old, &leaves[..size]).expect("sizes");
            let proof_hex: Vec<String> = proof.iter().map(|h| hex(h)).collect();
            assert_eq!(proof_hex, expected, "{old} -> {size}");
            assert!(verify_consistency(
                old as u64,
                size as u64,
                &proof,
                &root(&leaves[..old]),
                &root(&leaves[..size])
            ));
        }
        assert_eq!(consistency_proof(0, &leaves), None);
        assert_eq!(consistency_proof(9, &leaves), None);
    }

    #[test]
    fn the_frontier_proves_what_the_whole_tree_proves() {
        for n in 1..=40usize {
            let all = leaves(n);
            for m in 1..=n {
                let frontier = Frontier::of(&all[..m]);
                assert_eq!(frontier.size(), m as u64);
                assert_eq!(frontier.root(), root(&all[..m]));
                let from_frontier = frontier.consistency_proof(&all[m..]).expect("a proof");
                let expected = consistency_proof(m, &all).expect("a proof");
                assert_eq!(from_frontier, expected, "{m} -> {n}");
                assert!(verify_consistency(
                    m as u64,
                    n as u64,
                    &from_frontier,
                    &frontier.root(),
                    &root(&all)
                ));
                let back = Frontier::from_parts(frontier.size(), frontier.nodes().to_vec());
                assert_eq!(back.as_ref(), Some(&frontier));
            }
        }
        assert_eq!(Frontier::from_parts(3, vec![[0; 32]]), None);
        assert_eq!(
            Frontier::new().consistency_proof(&leaves(3)),
            Some(Vec::new())
        );
    }

    #[test]
    fn altered_proofs_do_not_verify() {
        let all = leaves(13);
        let whole = root(&all);
        for m in 1..13usize {
            let proof = consistency_proof(m, &all).expect("a proof");
            let old = root(&all[..m]);
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][0] ^= 1;
                assert!(!verify_consistency(m as u64, 13, &bad, &old, &whole));
            }
            if !proof.is_empty() {
                let shorter = &proof[..proof.len() - 1];
                assert!(!verify_consistency(m as u64, 13, shorter, &old, &whole));
            }
            let mut longer = proof.clone();
            longer.push([0; 32]);
            assert!(!verify_consistency(m as u64, 13, &longer, &old, &whole));
            assert!(!verify_consistency(m as u64, 13, &proof, &whole, &whole));
        }
        for m in 0..13usize {
            let proof = inclusion_proof(m, &all).expect("a leaf");
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][31] ^= 0x80;
                assert!(!verify_inclusion(&all[m], m as u64, 13, &bad, &whole));
            }
            assert!(!verify_inclusion(&all[m], 13, 13, &proof, &whole));
            if (m ^ 1) < 13 {
                assert!(!verify_inclusion(
                    &all[m],
                    (m ^ 1) as u64,
                    13,
                    &proof,
                    &whole
                ));
            }
        }
        assert!(verify_consistency(0, 13, &[], &empty_root(), &whole));
        assert!(!verify_consistency(0, 13, &[whole], &empty_root(), &whole));
        assert!(verify_consistency(13, 13, &[], &whole, &whole));
        assert!(!verify_consistency(13, 13, &[], &whole, &all[0]));
        assert!(!verify_consistency(14, 13, &[], &whole, &whole));
        assert!(!verify_consistency(5, 13, &[], &root(&all[..5]), &whole));
    }
}
