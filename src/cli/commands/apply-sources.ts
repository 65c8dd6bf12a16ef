import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequestError } from '../../errors.js';

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
      for (const n of names) sources.push({ name: join(arg, n), text: await readFile(join(arg, n), 'utf8') });
    } else {
      sources.push({ name: arg, text: await readFile(arg, 'utf8') });
    }
  }
  return sources;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new BadRequestError("-f -: standard input is a terminal; pipe the specs in (berth apply -f - < app.yaml)");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** All sources as one YAML stream, so the server applies them as one set (all or nothing). */
export function combineSources(sources: readonly SpecSource[]): string {
  if (sources.length === 1) return sources[0]!.text;
  return sources.map((s) => s.text.replace(/\s+$/, '')).join('\n---\n') + '\n';
}
