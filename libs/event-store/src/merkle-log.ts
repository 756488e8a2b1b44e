import { CompactRange, consistencyProof, eventLeafHash, inclusionProof, rootAt, type NodeReader } from './merkle.js';
import type { ConsistencyProof, EventStore, InclusionProof, MerkleLog, TreeHead } from './port.js';

/** What a store that keeps its tree's complete subtrees gives `StoredMerkleLog`. */
export interface TreeAccess {
  readonly read: NodeReader;
  /** Leaves in the tree now. */
  size(): number;
  positionOf(leaf: number): bigint;
  leafOf(position: bigint): number | undefined;
  /** Leaves covering the events up to `position`, inclusive. */
  sizeAt(position: bigint): number;
}

function checkSize(size: number, current: number, name = 'size'): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > current) throw new RangeError(`${name} ${size} is beyond the tree (${current} events)`);
}

/** Heads and proofs from stored complete subtrees: O(log n) reads each. */
export class StoredMerkleLog implements MerkleLog {
  constructor(private readonly tree: TreeAccess) {}

  async treeHead(size?: number): Promise<TreeHead> {
    const current = this.tree.size();
    const n = size ?? current;
    checkSize(n, current);
    return { size: n, position: n === 0 ? 0n : this.tree.positionOf(n - 1), rootHash: rootAt(this.tree.read, n).toString('hex') };
  }

  async sizeAt(position: bigint): Promise<number> {
    return this.tree.sizeAt(position);
  }

  async inclusionProof(position: bigint, size: number): Promise<InclusionProof> {
    checkSize(size, this.tree.size());
    const leaf = this.tree.leafOf(position);
    if (leaf === undefined || leaf >= size) throw new RangeError(`position ${position} is not an event in the tree of ${size} events`);
    return {
      leafIndex: leaf,
      position,
      size,
      leafHash: this.tree.read(0, leaf).toString('hex'),
      auditPath: inclusionProof(this.tree.read, leaf, size).map((h) => h.toString('hex')),
    };
  }

  async consistencyProof(fromSize: number, toSize: number): Promise<ConsistencyProof> {
    checkSize(toSize, this.tree.size(), 'to');
    checkSize(fromSize, toSize, 'from');
    return { fromSize, toSize, proof: consistencyProof(this.tree.read, fromSize, toSize).map((h) => h.toString('hex')) };
  }
}

/**
 * For an adapter that keeps no tree (yet): every call rebuilds the tree from the log, O(n) time and memory.
 * Same answers as a stored tree; the SQLite adapter keeps one, the EventStoreDB adapter can add its own later.
 */
export class ScanningMerkleLog implements MerkleLog {
  constructor(private readonly store: EventStore) {}

  private async build(): Promise<TreeAccess & { positions: bigint[] }> {
    const nodes = new Map<string, Buffer>();
    const positions: bigint[] = [];
    const range = new CompactRange();
    for await (const e of this.store.readAll({ fromPosition: 0n })) {
      const h = eventLeafHash(e.position, e.hash);
      nodes.set(`0/${positions.length}`, h);
      positions.push(e.position);
      for (const n of range.push(h)) nodes.set(`${n.level}/${n.index}`, n.hash);
    }
    const byPosition = new Map(positions.map((p, i) => [p, i]));
    return {
      positions,
      read: (level, index) => nodes.get(`${level}/${index}`)!,
      size: () => positions.length,
      positionOf: (leaf) => positions[leaf]!,
      leafOf: (position) => byPosition.get(position),
      sizeAt: (position) => {
        let lo = 0;
        let hi = positions.length;
        while (lo < hi) {
          const mid = Math.floor((lo + hi) / 2);
          if (positions[mid]! <= position) lo = mid + 1;
          else hi = mid;
        }
        return lo;
      },
    };
  }

  async treeHead(size?: number): Promise<TreeHead> {
    return new StoredMerkleLog(await this.build()).treeHead(size);
  }

  async sizeAt(position: bigint): Promise<number> {
    return (await this.build()).sizeAt(position);
  }

  async inclusionProof(position: bigint, size: number): Promise<InclusionProof> {
    return new StoredMerkleLog(await this.build()).inclusionProof(position, size);
  }

  async consistencyProof(fromSize: number, toSize: number): Promise<ConsistencyProof> {
    return new StoredMerkleLog(await this.build()).consistencyProof(fromSize, toSize);
  }
}

export function merkleOf(store: EventStore): MerkleLog {
  return store.merkle ?? new ScanningMerkleLog(store);
}
