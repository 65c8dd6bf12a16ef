import { Worker } from 'node:worker_threads';
import { BadRequestError, BerthError, SpecError, type FieldProblem } from '../errors.js';
import { threadLackedDescriptors } from '../net/fd-limit.js';
import { parseSpecText } from './parse.js';
import type { AppSpec } from './types.js';
import { configLines, linesFromTable, readConfigText, type ConfigText, type LineOf } from '../config/config-text.js';

/**
 * Texts up to this size are read on the calling thread. The YAML library takes
 * some 10 µs per node, so the worst 16 KiB (a flow list of numbers) costs tens of
 * milliseconds, a typical spec far less; the worst 1 MiB request body took 25 s,
 * during which the gateway's event loop, and every proxied request, stood still.
 */
export const INLINE_PARSE_BYTES = 16 * 1024;

/** Memory the thread may use: far past any real batch of specs; past it, the text is refused. */
const THREAD_HEAP_MB = 512;

/** The thread is kept this long after its last text (its start, loading the spec modules, takes up to a second). */
const THREAD_IDLE_MS = 30_000;

/** A spec text to parse; or (`config`) a config file's text to read as YAML, with its lines (config-text.ts). */
export interface ParseThreadRequest {
  text: string;
  source: string;
  config?: boolean;
}

export type ParseThreadReply =
  | { ok: true; specs: AppSpec[] }
  | { ok: true; config: ConfigText; lines: Array<[string, number]> }
  | { ok: false; problems: FieldProblem[] }
  | { ok: false; message: string };

const THREAD_URL = new URL('./parse-thread.js', import.meta.url);

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
/** One large text at a time: a second waits, so these reads take one core at most. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * parseSpecText without holding the event loop: small texts inline, larger ones
 * on a thread (one at a time). Same answers, same SpecError.
 */
export function parseSpecTextOffThread(text: string, source: string): Promise<AppSpec[]> {
  if (text.length <= INLINE_PARSE_BYTES) return Promise.resolve().then(() => parseSpecText(text, source));
  return onThread({ text, source }, (reply) => ('specs' in reply ? reply.specs : []));
}

/**
 * A config file's text read as YAML (readConfigText) without holding the event loop, with
 * the line of each field: small texts inline, larger ones on the thread. A reload reads the
 * config file while the proxy serves; read inline, a config of 256 KiB of short flow-list
 * items held the event loop, and every proxied request, for over ten seconds.
 */
export function readConfigTextOffThread(text: string, source: string): Promise<{ config: ConfigText; lineOf: LineOf | undefined }> {
  if (text.length <= INLINE_PARSE_BYTES) return Promise.resolve().then(() => ({ config: readConfigText(text), lineOf: configLines(text) }));
  return onThread({ text, source, config: true }, (reply) => ('config' in reply ? { config: reply.config, lineOf: linesFromTable(reply.lines) } : { config: { ok: false, problem: ': could not be read' }, lineOf: undefined }));
}

/** One text at a time on the thread. */
function onThread<T>(request: ParseThreadRequest, answer: (reply: Extract<ParseThreadReply, { ok: true }>) => T): Promise<T> {
  const run = queue.then(() => parseOnThread(request, answer));
  queue = run.catch(() => undefined);
  return run;
}

function parseOnThread<T>(request: ParseThreadRequest, answer: (reply: Extract<ParseThreadReply, { ok: true }>) => T): Promise<T> {
  const { source } = request;
  clearTimeout(idleTimer);
  const thread = (worker ??= startThread());
  return new Promise<T>((resolve, reject) => {
    const onMessage = (reply: ParseThreadReply) => {
      done();
      if (reply.ok) resolve(answer(reply));
      else if ('problems' in reply) reject(new SpecError(reply.problems, source));
      else reject(new Error(`reading ${source}: ${reply.message}`));
    };
    const onError = (err: Error & { code?: string }) => {
      done();
      // ERR_WORKER_OUT_OF_MEMORY: the text holds more than any batch of specs could.
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') return reject(new BadRequestError(`${source}: too large to read as app specs (over ${THREAD_HEAP_MB} MB of memory); send fewer at a time`));
      // The gateway out of descriptors (a flood of connections) is not the client's fault, nor a 500: it passes.
      if (threadLackedDescriptors(err)) return reject(outOfDescriptors(source));
      reject(err);
    };
    const onExit = (code: number) => onError(new Error(`reading ${source}: the parsing thread exited with code ${code}`));
    const done = () => {
      thread.off('message', onMessage).off('error', onError).off('exit', onExit);
      thread.unref();
      idleTimer = setTimeout(stopThread, THREAD_IDLE_MS).unref();
    };
    thread.on('message', onMessage).on('error', onError).on('exit', onExit);
    // Held while it reads for someone (an answer is owed), let go while idle.
    thread.ref();
    thread.postMessage(request);
  });
}

function outOfDescriptors(source: string): BerthError {
  const message = `cannot read ${source} now: the gateway is out of file descriptors; try again shortly`;
  return new BerthError('overloaded', message, { retryAfterS: 1, publicMessage: message });
}

function startThread(): Worker {
  const thread = new Worker(THREAD_URL, { resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB } });
  // A thread that died is started afresh next time.
  thread.once('exit', () => {
    if (worker === thread) worker = undefined;
  });
  return thread;
}

function stopThread(): void {
  const thread = worker;
  worker = undefined;
  void thread?.terminate();
}
