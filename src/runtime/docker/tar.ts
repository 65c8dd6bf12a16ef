/**
 * A minimal tar (POSIX ustar) writer, enough to hand the Engine API a few small
 * files and directories to put into a container (PUT /containers/{id}/archive):
 * per entry one 512-byte header and the content padded to 512 bytes, then two
 * zero blocks. Everything is owned by root; nothing is read from disk.
 */

const BLOCK = 512;

export interface TarEntry {
  /** Relative path inside the archive, `/`-separated, e.g. `run/berth/input.json`. */
  name: string;
  type: 'file' | 'dir';
  /** Permission bits, e.g. 0o444. */
  mode: number;
  /** File content (ignored for directories). */
  content?: Buffer | string;
}

export interface TarOptions {
  /** Modification time of every entry. Default: now. */
  mtime?: Date;
}

/** The archive of `entries`, in order (so a directory must come before what it holds). */
export function tarArchive(entries: readonly TarEntry[], options: TarOptions = {}): Buffer {
  const mtime = Math.floor((options.mtime ?? new Date()).getTime() / 1000);
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === 'file' ? toBuffer(entry.content) : Buffer.alloc(0);
    blocks.push(tarHeader(entry, content.length, mtime));
    if (content.length > 0) {
      blocks.push(content);
      const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (pad > 0) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(2 * BLOCK)); // end of archive
  return Buffer.concat(blocks);
}

function toBuffer(content: Buffer | string | undefined): Buffer {
  if (content === undefined) return Buffer.alloc(0);
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** One ustar header block. Exported for tests, which check its checksum. */
export function tarHeader(entry: TarEntry, size: number, mtimeS: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const { name, prefix } = splitName(entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name);
  header.write(name, 0, 100, 'utf8');
  writeOctal(header, 100, 8, entry.mode & 0o7777);
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, mtimeS);
  header.write(entry.type === 'dir' ? '5' : '0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write('root', 265, 32, 'ascii');
  header.write('root', 297, 32, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  // The checksum is the byte sum of the header with its own field read as spaces,
  // written as six octal digits, a NUL and a space.
  header.fill(0x20, 148, 156);
  writeOctal(header, 148, 7, tarChecksum(header));
  header[155] = 0x20;
  return header;
}

/** Sum of the header's bytes with the checksum field (148..155) counted as spaces. */
export function tarChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum;
}

/** Octal digits, zero-padded, NUL-terminated, filling `width` bytes. */
function writeOctal(buf: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width - 1} octal digits`);
  buf.write(digits.padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

/** ustar keeps names up to 100 bytes, or 255 split at a `/` into prefix (≤155) and name (≤100). */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  // Any `/` where both parts fit will do; a directory's own trailing "/" is not a split point.
  for (let i = path.length - 2; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}
