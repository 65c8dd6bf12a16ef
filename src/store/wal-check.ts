/**
 * Reading a SQLite write-ahead log (the store's `-wal` file) the way SQLite's
 * recovery does, to find what that recovery would silently drop. SQLite stops at
 * the first frame whose checksum fails and forgets every frame after it. That is
 * right for a write torn by a crash (it can only be the last transaction, never
 * answered as committed), but a damaged frame earlier in the log takes committed
 * transactions with it: the store would open without apps the API acknowledged,
 * and the reconciler would remove their containers as orphans. Pure: bytes in,
 * a count out (format: https://sqlite.org/fileformat2.html#walformat).
 */

const HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;
const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), seeded with s0, s1. */
function checksum(data: Buffer, bigEndian: boolean, s0: number, s1: number): [number, number] {
  for (let i = 0; i + 8 <= data.length; i += 8) {
    const x0 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const x1 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

/**
 * How many committed transactions follow the first damaged frame, beyond the one a
 * torn write explains: 0 for a healthy log, an empty one, or one whose only damage
 * is the last transaction. Each transaction is synced at its commit (synchronous =
 * FULL), so a second valid commit after a broken frame means the broken one had
 * been on disk whole, and was damaged since.
 */
export function lostCommits(wal: Buffer): number {
  if (wal.length < HEADER_BYTES) return 0;
  const magic = wal.readUInt32BE(0);
  if (magic !== MAGIC_LE && magic !== MAGIC_BE) return 0; // not a log SQLite would read at all
  const bigEndian = magic === MAGIC_BE;
  const pageSize = wal.readUInt32BE(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return 0;
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  const frameBytes = FRAME_HEADER_BYTES + pageSize;
  // Each frame's checksum is seeded with the one stored in the frame before it (the header's for the first).
  let seed: [number, number] = [wal.readUInt32BE(24), wal.readUInt32BE(28)];
  const headerOk = sameSums(checksum(wal.subarray(0, 24), bigEndian, 0, 0), seed);
  let broken = !headerOk;
  let commitsAfterBreak = 0;
  for (let at = HEADER_BYTES; at + frameBytes <= wal.length; at += frameBytes) {
    const frame = wal.subarray(at, at + frameBytes);
    // Frames of an earlier generation of the log (other salts) are left over, not damaged.
    const current = frame.readUInt32BE(8) === salt1 && frame.readUInt32BE(12) === salt2;
    const stored: [number, number] = [frame.readUInt32BE(16), frame.readUInt32BE(20)];
    const sums = checksum(Buffer.concat([frame.subarray(0, 8), frame.subarray(FRAME_HEADER_BYTES)]), bigEndian, seed[0], seed[1]);
    const valid = current && sameSums(sums, stored);
    if (!valid && !broken) {
      if (!current) break; // the end of this generation: nothing after it counts
      broken = true;
    } else if (valid && broken && frame.readUInt32BE(4) !== 0) commitsAfterBreak++;
    seed = stored;
  }
  return Math.max(0, commitsAfterBreak - 1);
}

function sameSums(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] === b[0] && a[1] === b[1];
}
