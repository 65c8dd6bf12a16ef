/**
 * Bytes that should be a spec (a file, a request body) as text. Decoding leniently
 * turned every invalid byte into U+FFFD without a word, so a spec saved in Latin-1
 * was applied with an env value or a label other than the one written; and a
 * binary file (an image given to `-f` by mistake) answered with a screenful of YAML
 * syntax errors. Both are refused here with where the first bad byte is.
 */
import { isUtf8 } from 'node:buffer';

export type DecodedText = { ok: true; text: string } | { ok: false; message: string };

/** `bytes` as UTF-8 text, or why they are not spec text: invalid UTF-8 or a NUL byte, with its line and column. Pure. */
export function specText(bytes: Uint8Array): DecodedText {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { ok: false, message: `binary, not YAML or JSON text: a NUL byte at ${where(bytes, nul)}` };
  if (isUtf8(bytes)) return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') };
  const bad = firstInvalidByte(bytes);
  const hex = bytes[bad]!.toString(16).toUpperCase().padStart(2, '0');
  return { ok: false, message: `not UTF-8 text: byte 0x${hex} at ${where(bytes, bad)} starts no valid character; save the file as UTF-8` };
}

/** Line and column (from 1, columns in bytes) of byte `offset`. */
function where(bytes: Uint8Array, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return `line ${line}, column ${offset - start + 1}`;
}

/** Offset of the first byte that begins no well-formed UTF-8 sequence (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). */
function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    // The second byte's range is narrower after E0, ED, F0 and F4 (overlongs, surrogates, past U+10FFFF).
    const second = bytes[i + 1] ?? 0;
    const [low, high] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    if (length > 1 && (second < low || second > high)) return i;
    for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return bytes.length;
}
