import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_BODY_BYTES } from '../../api/body-limit.js';
import { BadRequestError } from '../../errors.js';
import { specText } from '../../spec/utf8-text.js';

/** One place specs were read from: a file, or standard input. */
export interface SpecSource {
  name: string;
  text: string;
}

const SPEC_FILE = /\.(ya?ml|json)$/i;

/**
 * Reads every `-f` argument: a file, a directory (its .yaml, .yml and .json
 * files, sorted by name, not recursing), or `-` for standard input.
 */
export async function readSources(args: readonly string[]): Promise<SpecSource[]> {
  const sources: SpecSource[] = [];
  for (const arg of args) {
    if (arg === '-') {
      sources.push({ name: 'stdin', text: await readStdin() });
      continue;
    }
    const info = await stat(arg).catch((err: NodeJS.ErrnoException) => {
      throw new BadRequestError(`${arg}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
    });
    if (info.isDirectory()) {
      const names = (await readdir(arg)).filter((n) => SPEC_FILE.test(n) && !n.startsWith('.')).sort();
      if (names.length === 0) throw new BadRequestError(`${arg}: no .yaml, .yml or .json files in this directory`);
      for (const n of names) sources.push({ name: join(arg, n), text: await readBounded(join(arg, n)) });
    } else {
      sources.push({ name: arg, text: await readBounded(arg) });
    }
  }
  return sources;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new BadRequestError("-f -: standard input is a terminal; pipe the specs in (berth apply -f - < app.yaml)");
  return readAtMost(process.stdin, 'standard input');
}

/**
 * A spec file's text. Read as a stream up to the most the gateway takes in one
 * request, whatever the file is: a device (/dev/zero) or a pipe (`-f <(…)`) has
 * no size to check first, and reading it whole ended in "Invalid string length".
 */
function readBounded(path: string): Promise<string> {
  return readAtMost(createReadStream(path), path).catch((err: NodeJS.ErrnoException) => {
    throw err instanceof BadRequestError ? err : new BadRequestError(`${path}: ${err.message}`);
  });
}

async function readAtMost(stream: NodeJS.ReadableStream & { destroy?: () => void }, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      stream.destroy?.();
      throw new BadRequestError(`${name}: larger than ${MAX_BODY_BYTES} bytes, more than the gateway takes in one apply; split it`);
    }
    chunks.push(chunk);
  }
  const decoded = specText(Buffer.concat(chunks));
  if (!decoded.ok) throw new BadRequestError(`${name}: ${decoded.message}`);
  return decoded.text;
}

/** All sources as one YAML stream, so the server applies them as one set (all or nothing). */
export function combineSources(sources: readonly SpecSource[]): string {
  if (sources.length === 1) return sources[0]!.text;
  return sources.map((s) => s.text.replace(/\s+$/, '')).join('\n---\n') + '\n';
}
