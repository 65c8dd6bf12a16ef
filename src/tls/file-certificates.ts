import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConfigError, messageOf } from '../errors.js';
import { certificatePair, validityProblem, type CertificatePair } from './certificate-pair.js';
import { readRegularFile } from '../regular-file.js';

/** One `tls.certificates` entry: absolute paths of a PEM chain and its key. */
export interface CertificateFiles {
  cert: string;
  key: string;
}

/** The longest a certificate refused as not valid yet is waited for (read again at its notBefore); past it, a file change or a reload brings it. */
const MAX_EARLY_WAIT_MS = 24 * 3_600_000;

/** How often the files are checked for changes (a stat each; editors and certbot replace files, which inotify loses). */
const POLL_MS = 1_000;

/**
 * The most bytes a certificate or key file may hold. A chain with its
 * intermediates is a few KiB (Let's Encrypt's full chain about 5); a long CA
 * bundle stays under 1 MiB.
 */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

/**
 * Reads one PEM file, or throws an Error naming it. Only a regular file of at
 * most MAX_PEM_FILE_BYTES is read: readFile on a FIFO blocks (a start that
 * never ends, or a reload holding a libuv thread for good), and on a device
 * such as /dev/zero (a symlink swapped in) reads until memory gives out.
 * O_NONBLOCK lets the open of a FIFO return, so its type can be refused.
 */
export async function readPemFile(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new Error(`${path}: cannot be read (${messageOf(err)})`);
  }
  try {
    const read = await readRegularFile(handle, MAX_PEM_FILE_BYTES);
    if (typeof read === 'string') return read;
    if (read.refused === 'not-regular') throw new Error(`${path}: not a regular file (${read.directory ? 'a directory' : 'a device, pipe or socket'})`);
    if (read.size !== undefined) throw new Error(`${path}: ${read.size} bytes, more than a certificate chain or key holds (${MAX_PEM_FILE_BYTES} at most)`);
    throw new Error(`${path}: more than ${MAX_PEM_FILE_BYTES} bytes, more than a certificate chain or key holds`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(`${path}: `)) throw err;
    throw new Error(`${path}: cannot be read (${messageOf(err)})`);
  } finally {
    await handle.close();
  }
}

/** Reads and checks one pair of files; the error names the file at fault. */
export async function readCertificateFiles(files: CertificateFiles): Promise<CertificatePair> {
  const [cert, key] = [await readPemFile(files.cert), await readPemFile(files.key)];
  return certificatePair(cert, key, files);
}

/**
 * Why a pair read again (a changed file, a reload) is not served in place of
 * `current`, or undefined to serve it: a certificate clients would refuse
 * (expired, not valid yet: a backup copied back, a clock ahead at issue) never
 * replaces one they accept. Otherwise nothing is lost by taking it.
 */
export function replacementRefusal(current: CertificatePair | undefined, next: CertificatePair, nowMs: number): string | undefined {
  const problem = validityProblem(next, nowMs);
  if (problem === undefined || current === undefined || validityProblem(current, nowMs) !== undefined) return undefined;
  return `the certificate is ${problem}, and the one it would replace is valid until ${current.notAfter.toISOString()}`;
}

/**
 * The certificates named by the config's `tls.certificates`, watched: a pair
 * whose files change is read again, and served once it checks out. A missing or
 * invalid pair is refused (logged, naming the file) and the one loaded before
 * keeps serving.
 */
export class FileCertificates {
  private readonly watched: Array<[string, (now: Stats, before: Stats) => void]> = [];
  /** Per pair, why the files as they are now were refused (the pair loaded before serves on); undefined once they load. */
  private readonly refused: Array<string | undefined>;
  /** Per pair, the last reload begun: a slower read that began earlier must not overwrite a newer one. */
  private readonly reloads: number[];
  /** Per pair, the re-read of a certificate refused as not valid yet, at its notBefore. */
  private readonly retries: Array<NodeJS.Timeout | undefined> = [];
  private closed = false;

  private constructor(
    private readonly files: readonly CertificateFiles[],
    private readonly pairs: CertificatePair[],
    private readonly logger: Logger,
    private readonly onChange: () => void,
  ) {
    this.refused = files.map(() => undefined);
    this.reloads = files.map(() => 0);
  }

  /**
   * Loads every pair, or throws a ConfigError naming every file at fault (a
   * start fails, a reload is refused). `previous` is the set serving now (at a
   * reload): a valid certificate of the same file is not replaced by one that
   * is not (replacementRefusal). At start an expired or not yet valid one is
   * served, with a warning: refusing it would take every other host down too.
   */
  static async load(files: readonly CertificateFiles[], logger: Logger, onChange: () => void, previous?: FileCertificates): Promise<FileCertificates> {
    const pairs: CertificatePair[] = [];
    const problems: string[] = [];
    const now = Date.now();
    for (const [i, f] of files.entries()) {
      try {
        const pair = await readCertificateFiles(f);
        const refusal = replacementRefusal(previous?.pairFor(f.cert), pair, now);
        if (refusal !== undefined) throw new Error(`${f.cert}: ${refusal}`);
        const problem = validityProblem(pair, now);
        if (problem !== undefined) logger.warn({ cert: f.cert, names: pair.names }, `certificate ${problem}: served, but clients will refuse it`);
        pairs.push(pair);
      } catch (err) {
        problems.push(`tls.certificates[${i}]: ${messageOf(err)}`);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems.join('; '));
    return new FileCertificates(files, pairs, logger, onChange);
  }

  get list(): readonly CertificatePair[] {
    return this.pairs;
  }

  /** Why the files of pair `index` were last refused while its earlier certificate serves on, or undefined. */
  refusal(index: number): string | undefined {
    return this.refused[index];
  }

  /** The pair served for a certificate file, if this set has it. */
  private pairFor(cert: string): CertificatePair | undefined {
    const i = this.files.findIndex((f) => f.cert === cert);
    return i < 0 ? undefined : this.pairs[i];
  }

  /** Starts watching every file; a change reloads its pair. */
  watch(): void {
    for (const [i, f] of this.files.entries()) {
      for (const path of [f.cert, f.key]) {
        const listener = (now: Stats, before: Stats) => {
          if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
          void this.reload(i);
        };
        watchFile(path, { interval: POLL_MS, persistent: false }, listener);
        this.watched.push([path, listener]);
      }
    }
  }

  private async reload(index: number): Promise<void> {
    const files = this.files[index]!;
    const attempt = ++this.reloads[index]!;
    try {
      const pair = await readCertificateFiles(files);
      if (attempt !== this.reloads[index]) return;
      const now = Date.now();
      const refusal = replacementRefusal(this.pairs[index], pair, now);
      if (refusal !== undefined) {
        // Not valid yet (a CA's clock a little ahead): read again once it is, as no change of the files may come.
        const waitMs = pair.notBefore.getTime() - now;
        if (waitMs > 0 && waitMs <= MAX_EARLY_WAIT_MS) this.retryAt(index, waitMs + 1_000);
        throw new Error(`${files.cert}: ${refusal}`);
      }
      this.pairs[index] = pair;
      this.refused[index] = undefined;
      clearTimeout(this.retries[index]);
      this.logger.info({ cert: files.cert, names: pair.names, notAfter: pair.notAfter }, 'certificate reloaded');
      this.onChange();
    } catch (err) {
      if (attempt !== this.reloads[index]) return;
      this.refused[index] = messageOf(err);
      this.logger.error({ cert: files.cert, key: files.key, err: messageOf(err) }, 'certificate refused, the previous one keeps serving');
    }
  }

  /** Reads pair `index` again in `ms` (once: a later call replaces an earlier one). */
  private retryAt(index: number, ms: number): void {
    clearTimeout(this.retries[index]);
    if (this.closed) return;
    const timer = setTimeout(() => void this.reload(index), ms);
    timer.unref();
    this.retries[index] = timer;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.retries) clearTimeout(timer);
    // Each listener alone: a newer set (after a reload) may watch the same files.
    for (const [path, listener] of this.watched) unwatchFile(path, listener);
    this.watched.length = 0;
  }
}
