import { Command } from 'commander';
import { BadRequestError, RuntimeError, messageOf } from '../../errors.js';
import { ApiError } from '../api-errors.js';
import type { ApplyAnswer } from '../api-types.js';
import type { ApiClient } from '../client.js';
import { paint } from '../colour.js';
import { withClient } from '../context.js';
import { note, out } from '../output.js';
import { Progress } from '../progress.js';
import { combineSources, readSources, type SpecSource } from './apply-sources.js';
import { resultLines } from './apply-report.js';
import { runLifecycle } from './lifecycle-run.js';

interface ApplyOptions {
  file: string[];
  dryRun?: boolean;
  wait?: boolean;
}

export function applyCommand(): Command {
  return new Command('apply')
    .description('create or update apps from spec files (berth/v1, SWS v1 or cntSpawner); the same spec twice changes nothing')
    .requiredOption('-f, --file <path>', "a spec file, a directory of them, or '-' for standard input (repeatable)", collect, [])
    .option('--dry-run', 'validate and show what would change, change nothing')
    .option('--wait', 'then start each app and wait until it is ready')
    .action(async (opts: ApplyOptions, cmd: Command) => {
      if (opts.file.length === 0) cmd.error("required option '-f, --file <path>' not specified");
      const sources = await readSources(opts.file);
      await withClient(cmd, async (client) => {
        const answer = await applySources(client, sources, Boolean(opts.dryRun));
        const p = paint();
        for (const line of resultLines(answer, p)) out(line);
        if (answer.dryRun) {
          note('dry run: nothing was changed');
          return;
        }
        if (opts.wait) await waitReady(client, answer.results.map((r) => r.name));
      });
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Sends every source as one set, so either all apps are applied or none. When
 * the set is refused, each source is dry-run alone to say which file holds the
 * problem; if none does on its own, the problem is between files and the
 * server's message stands.
 */
async function applySources(client: ApiClient, sources: SpecSource[], dryRun: boolean): Promise<ApplyAnswer> {
  const send = (text: string, dry: boolean) =>
    client.call<ApplyAnswer>('POST', '/v1/apps', { body: text, contentType: 'application/yaml', query: { dryRun: dry } });
  if (sources.every((s) => s.text.trim() === '')) throw new BadRequestError(`${sources.map((s) => s.name).join(', ')}: no app specs`);
  try {
    return await send(combineSources(sources), dryRun);
  } catch (err) {
    if (!isSpecRefusal(err)) throw err;
    if (sources.length === 1) throw locate(err, sources[0]!.name);
    const shares: SourceShare[] = [];
    for (const source of sources) {
      if (source.text.trim() === '') continue;
      try {
        shares.push({ name: source.name, specs: (await send(source.text, true)).results.length });
      } catch (alone) {
        if (isSpecRefusal(alone)) throw locate(alone, source.name);
        throw alone;
      }
    }
    // Each file is fine alone: the set is refused for what two of them say together (a name or a route twice).
    throw locateInSet(err, shares);
  }
}

/** A source's part of the combined body: its name and how many specs it holds, in the body's order. */
export interface SourceShare {
  name: string;
  specs: number;
}

/**
 * The server's refusal of the combined body with each `request body, document N`
 * it names (in a problem's path or message) as the file and document it came
 * from (`b.yaml`, or `b.yaml, document 2` when the file holds several). Pure.
 */
export function locateInSet(err: ApiError, shares: readonly SourceShare[]): ApiError {
  const origin = (n: number): string | undefined => {
    let first = 1;
    for (const share of shares) {
      if (n < first + share.specs) return share.specs > 1 ? `${share.name}, document ${n - first + 1}` : share.name;
      first += share.specs;
    }
    return undefined;
  };
  const rename = (text: string) => text.replace(/\brequest body, document (\d+)/g, (whole, n: string) => origin(Number(n)) ?? whole);
  const message = err.problems.length > 0 ? err.problems.map((p) => `${rename(p.path)}: ${rename(p.message)}`).join('; ') : rename(messageOf(err));
  return new ApiError(err.status, err.code, message, err.problems);
}

/** Refused for what the specs say (invalid, or denied by the gateway's policy), not for who asked or a server fault. */
function isSpecRefusal(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.code === 'spec_invalid' || err.code === 'policy_denied' || err.code === 'bad_request');
}

/**
 * The server's message with the file in place of the request body, each problem
 * named as a config file's are (`web.yaml, document 2: routes[0].path`). The
 * server writes a parse problem's path bare (`[1].routes[0].path`) and a policy
 * or set problem's with its origin (`request body, document 2: network`).
 */
export function locate(err: ApiError, source: string): ApiError {
  const message = err.problems.length > 0 ? err.problems.map((p) => `${inSource(p.path, source)}: ${otherDocumentsIn(p.message, source)}`).join('; ') : inSource(messageOf(err), source);
  return new ApiError(err.status, err.code, message, err.problems);
}

/** A field path (or message) of the request body, as one in `source`. Pure. */
function inSource(path: string, source: string): string {
  const body = /^request body(?=[,:])(.*)$/s.exec(path);
  if (body) return `${source}${body[1]}`;
  const doc = /^\[(\d+)\]\.?(.*)$/s.exec(path);
  if (doc) return `${source}, document ${Number(doc[1]) + 1}${doc[2] ? `: ${doc[2]}` : ''}`;
  return `${source}: ${path}`;
}

/** A problem's message with another document of the body it names (a name given twice) named in `source`. Pure. */
function otherDocumentsIn(message: string, source: string): string {
  return message.replace(/\brequest body, document (?=\d)/g, `${source}, document `);
}

/** Starts the applied apps one after the other, showing each one's progress; fails if any did not become ready. */
async function waitReady(client: ApiClient, names: string[]): Promise<void> {
  const progress = new Progress();
  const failed: string[] = [];
  for (const name of names) {
    try {
      await runLifecycle(client, name, 'start', progress);
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) throw err;
      const why = messageOf(err);
      failed.push(why.includes(name) ? why : `${name}: ${why}`);
    }
  }
  if (failed.length > 0) throw new RuntimeError(`not ready: ${failed.join('; ')}`);
}
