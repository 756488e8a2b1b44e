import fc from 'fast-check';
import {
  CompactRange,
  consistencyProof,
  EMPTY_ROOT,
  eventLeafHash,
  inclusionProof,
  leafHash,
  nodeHash,
  rootAt,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  type NodeReader,
} from './merkle.js';

// Published RFC 6962 test vectors: the eight leaf inputs and tree heads of the Certificate Transparency C++
// test suite (certificate-transparency cpp/merkletree/merkle_tree_test.cc), as carried on by
// transparency-dev/merkle proof/verify_test.go with its inclusion and consistency proofs.
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** { leaf (1-based, as in the source), size, proof }. */
const INCLUSION = [
  { leaf: 1, size: 1, proof: [] },
  { leaf: 1, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { leaf: 6, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { leaf: 2, size: 5, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];
const CONSISTENCY = [
  { from: 1, to: 1, proof: [] },
  { from: 1, to: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { from: 6, to: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { from: 2, to: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
  { from: 6, to: 7, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];

/** The RFC's definition of MTH, written directly (the oracle the stored-subtree code is checked against). */
function mth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leafHash(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** The complete subtrees a store would keep, computed by a CompactRange fed the leaves one by one; counts reads. */
function storeOf(leaves: readonly Buffer[]): { read: NodeReader; reads: () => number; range: CompactRange } {
  const nodes = new Map<string, Buffer>();
  const range = new CompactRange();
  leaves.forEach((l, i) => {
    const h = leafHash(l);
    nodes.set(`0/${i}`, h);
    for (const n of range.push(h)) nodes.set(`${n.level}/${n.index}`, n.hash);
  });
  let count = 0;
  const read: NodeReader = (level, index) => {
    count += 1;
    const h = nodes.get(`${level}/${index}`);
    if (!h) throw new Error(`node ${level}/${index} was never completed`);
    return h;
  };
  return { read, reads: () => count, range };
}

const tree = storeOf(LEAVES);
const flip = (b: Buffer, bit = 3): Buffer => {
  const c = Buffer.from(b);
  c[0]! ^= 1 << bit;
  return c;
};

describe('RFC 9162 Merkle tree against the published RFC 6962 vectors', () => {
  it('hashes the empty tree, and every tree head of sizes 1 to 8, as published', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    ROOTS.forEach((root, i) => {
      expect(rootAt(tree.read, i + 1).toString('hex')).toBe(root);
      expect(mth(LEAVES.slice(0, i + 1)).toString('hex')).toBe(root);
      expect(CompactRange.load(tree.read, i + 1).root().toString('hex')).toBe(root);
    });
    expect(tree.range.root().toString('hex')).toBe(ROOTS[7]);
  });

  it.each(INCLUSION)('generates and verifies the published inclusion proof of leaf $leaf in $size', ({ leaf, size, proof }) => {
    const got = inclusionProof(tree.read, leaf - 1, size).map((h) => h.toString('hex'));
    expect(got).toEqual(proof);
    const root = hex(ROOTS[size - 1]!);
    const lh = leafHash(LEAVES[leaf - 1]!);
    expect(verifyInclusion(leaf - 1, size, lh, proof.map(hex), root)).toBe(true);
    // The corruptions the reference suite tries: wrong index, size, leaf or root, extra or missing hashes, a flipped bit.
    const p = proof.map(hex);
    const bad: [number, number, Buffer, Buffer[], Buffer][] = [
      [leaf, size, lh, p, root],
      [leaf - 1, size * 2, lh, p, root],
      [leaf - 1, size, flip(lh), p, root],
      [leaf - 1, size, lh, p, EMPTY_ROOT],
      [leaf - 1, size, lh, [...p, root], root],
      [leaf - 1, size, lh, [root, ...p], root],
      ...p.map((_, i): [number, number, Buffer, Buffer[], Buffer] => [leaf - 1, size, lh, p.map((h, j) => (j === i ? flip(h) : h)), root]),
    ];
    if (p.length > 0) bad.push([leaf - 1, size, lh, p.slice(0, -1), root]);
    for (const [i, n, l, pr, r] of bad) expect(verifyInclusion(i, n, l, pr, r)).toBe(false);
  });

  it.each(CONSISTENCY)('generates and verifies the published consistency proof from $from to $to', ({ from, to, proof }) => {
    expect(consistencyProof(tree.read, from, to).map((h) => h.toString('hex'))).toEqual(proof);
    const r1 = hex(ROOTS[from - 1]!);
    const r2 = hex(ROOTS[to - 1]!);
    const p = proof.map(hex);
    expect(verifyConsistency(from, to, p, r1, r2)).toBe(true);
    if (p.length === 0) return;
    const bad: [number, number, Buffer[], Buffer, Buffer][] = [
      [from - 1, to, p, r1, r2],
      [from + 1, to, p, r1, r2],
      [from, to * 2, p, r1, r2],
      [from, to, p, r2, r1],
      [from, to, [], r1, r2],
      [from, to, [...p, r1], r1, r2],
      [from, to, [r2, ...p], r1, r2],
      [from, to, p.slice(0, -1), r1, r2],
      ...p.map((_, i): [number, number, Buffer[], Buffer, Buffer] => [from, to, p.map((h, j) => (j === i ? flip(h, 4) : h)), r1, r2]),
    ];
    for (const [a, b, pr, x, y] of bad) expect(verifyConsistency(a, b, pr, x, y)).toBe(false);
  });

  it('agrees with the RFC definition on every size and pair up to 70 leaves, with O(log n) proofs', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => Buffer.from(`leaf ${i}`));
    const s = storeOf(leaves);
    const roots = leaves.map((_, i) => mth(leaves.slice(0, i + 1)));
    for (let n = 1; n <= leaves.length; n++) {
      expect(rootAt(s.read, n).equals(roots[n - 1]!)).toBe(true);
      for (let m = 0; m < n; m++) {
        const ip = inclusionProof(s.read, m, n);
        expect(ip.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(rootFromInclusionProof(m, n, leafHash(leaves[m]!), ip)?.equals(roots[n - 1]!)).toBe(true);
        const cp = consistencyProof(s.read, m + 1, n);
        expect(cp.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)) + 1);
        expect(verifyConsistency(m + 1, n, cp, roots[m]!, roots[n - 1]!)).toBe(true);
        if (m + 1 < n) expect(verifyConsistency(m + 1, n, cp, roots[m]!, roots[n - 2]!)).toBe(false);
      }
    }
  });

  it('reads O(log n) stored subtrees for a proof in a big tree (no leaf-by-leaf rehashing)', () => {
    // A synthetic reader: a node's hash is derived from its coordinates, so a tree of 2^40 leaves costs nothing to "store".
    let reads = 0;
    const read: NodeReader = (level, index) => {
      reads += 1;
      return nodeHash(Buffer.from(`${level}`), Buffer.from(`${index}`));
    };
    const size = 2 ** 40 + 12345;
    const p = consistencyProof(read, 1000, size);
    expect(p.length).toBeLessThanOrEqual(45);
    expect(reads).toBeLessThan(45 * 45);
  });

  it('covers the position in an event leaf: the same event hash at another position is another leaf', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n }), fc.bigInt({ min: 1n, max: 2n ** 63n }), (a, b) => {
        const h = 'ab'.repeat(32);
        return (a === b) === eventLeafHash(a, h).equals(eventLeafHash(b, h));
      }),
    );
    expect(() => eventLeafHash(1n, 'not hex')).toThrow(TypeError);
  });
});
