import type { FileHandle } from 'node:fs/promises';

/** Why readRegularFile gave no text: the file is not a regular one, or is over the bound. */
export type IrregularFile =
  | { refused: 'not-regular'; directory: boolean }
  /** `size`: what stat said, when it was over the bound already; undefined when the file grew past it while read. */
  | { refused: 'too-large'; size: number | undefined };

/**
 * The text (UTF-8) of an open file, when it is a regular file of at most `maxBytes`;
 * otherwise why not. A FIFO or a device could block or never end (/dev/zero behind a
 * link), so its type is refused before any read (the caller opens with O_NONBLOCK, so
 * the open of a FIFO returns); a file growing after the stat is still read to one byte
 * past the bound at most. Each caller words its own errors and chooses its own open flags.
 */
export async function readRegularFile(handle: FileHandle, maxBytes: number): Promise<string | IrregularFile> {
  const read = await readRegularBytes(handle, maxBytes);
  return Buffer.isBuffer(read) ? read.toString('utf8') : read;
}

/** readRegularFile's bytes, undecoded: for a caller that checks the encoding itself. */
export async function readRegularBytes(handle: FileHandle, maxBytes: number): Promise<Buffer | IrregularFile> {
  const stats = await handle.stat();
  if (!stats.isFile()) return { refused: 'not-regular', directory: stats.isDirectory() };
  if (stats.size > maxBytes) return { refused: 'too-large', size: stats.size };
  // Sized by the stat (a bound of megabytes is not allocated for every small file), grown when the file grows.
  let buffer = Buffer.alloc(stats.size + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.alloc(Math.min(buffer.length, maxBytes + 1 - buffer.length))]);
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
    if (length > maxBytes) return { refused: 'too-large', size: undefined };
  }
  return buffer.subarray(0, length);
}
