import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConfigError, messageOf } from '../errors.js';
import { certificatePair, type CertificatePair } from './certificate-pair.js';

/** One `tls.certificates` entry: absolute paths of a PEM chain and its key. */
export interface CertificateFiles {
  cert: string;
  key: string;
}

/** How often the files are checked for changes (a stat each; editors and certbot replace files, which inotify loses). */
const POLL_MS = 1_000;

/** Reads and checks one pair of files; the error names the file at fault. */
export async function readCertificateFiles(files: CertificateFiles): Promise<CertificatePair> {
  const read = async (path: string) => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new Error(`${path}: cannot be read (${messageOf(err)})`);
    }
  };
  const [cert, key] = [await read(files.cert), await read(files.key)];
  return certificatePair(cert, key, files);
}

/**
 * The certificates named by the config's `tls.certificates`, watched: a pair
 * whose files change is read again, and served once it checks out. A missing or
 * invalid pair is refused (logged, naming the file) and the one loaded before
 * keeps serving.
 */
export class FileCertificates {
  private readonly watched: Array<[string, (now: Stats, before: Stats) => void]> = [];

  private constructor(
    private readonly files: readonly CertificateFiles[],
    private readonly pairs: CertificatePair[],
    private readonly logger: Logger,
    private readonly onChange: () => void,
  ) {}

  /** Loads every pair, or throws a ConfigError naming every file at fault (a start fails, a reload is refused). */
  static async load(files: readonly CertificateFiles[], logger: Logger, onChange: () => void): Promise<FileCertificates> {
    const pairs: CertificatePair[] = [];
    const problems: string[] = [];
    for (const [i, f] of files.entries()) {
      try {
        pairs.push(await readCertificateFiles(f));
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
    try {
      this.pairs[index] = await readCertificateFiles(files);
      this.logger.info({ cert: files.cert, names: this.pairs[index]!.names, notAfter: this.pairs[index]!.notAfter }, 'certificate reloaded');
      this.onChange();
    } catch (err) {
      this.logger.error({ cert: files.cert, key: files.key, err: messageOf(err) }, 'certificate refused, the previous one keeps serving');
    }
  }

  close(): void {
    // Each listener alone: a newer set (after a reload) may watch the same files.
    for (const [path, listener] of this.watched) unwatchFile(path, listener);
    this.watched.length = 0;
  }
}
