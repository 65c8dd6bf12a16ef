import { constants } from 'node:os';
import { Command } from 'commander';
import { BadRequestError } from '../../errors.js';
import { describePostgresUrl } from '../../store/store-location.js';

/** Where `store copy` copies to, and a warning to print first, if any. */
export interface CopyTarget {
  url: string;
  warning?: string;
}

/**
 * The target of `store copy`: `--to`, else BERTH_STORE (as `berth serve` reads it). A
 * command line is readable by every user of the host (`ps`, /proc/PID/cmdline) until
 * berth masks it (argv-scrub.ts), and a shell's history keeps it, so a password in `--to`
 * is told apart: the copy goes ahead (the URL is already out), with a warning naming the
 * ways that keep it off the command line.
 */
export function copyTarget(flag: string | undefined, env: NodeJS.ProcessEnv): CopyTarget {
  const url = flag ?? env.BERTH_STORE;
  if (!url) throw new BadRequestError('store copy needs the PostgreSQL store: --to postgres://user@host:5432/db, or BERTH_STORE');
  if (flag === undefined || !hasPassword(flag)) return { url };
  return {
    url,
    warning: "the password in --to was on the command line, which every user of this host can read (ps) until berth hides it, and which the shell's history keeps; give the URL in BERTH_STORE instead, or the password in PGPASSWORD or ~/.pgpass",
  };
}

/**
 * The line `store copy` ends with on Ctrl-C (or SIGTERM). Until the COMMIT is sent the copy is
 * one open transaction, which PostgreSQL rolls back when the connection closes with the
 * process; once it is sent, whether it landed is not known here. Pure.
 */
export function interruptedLine(committing: boolean): string {
  return committing
    ? 'interrupted while committing: the target may hold the whole copy or nothing; look at it before copying again'
    : 'interrupted: nothing was copied (the open transaction is rolled back)';
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false; // an unparsable URL is refused by the copy itself, naming no part of it
  }
}

export function storeCommand(): Command {
  const store = new Command('store').description("operate on a gateway's store directly (not through the API)");
  store
    .command('copy')
    .description("copy a SQLite store's whole state (apps, tokens, secrets, history, usage, identity) into an empty PostgreSQL store")
    .requiredOption('--from <file>', 'the SQLite store file, e.g. ./data/berth.db')
    .option('--to <url>', 'the PostgreSQL store, postgres://user@host:5432/db (its database must be empty); default: BERTH_STORE, which keeps a password out of ps')
    .action(async (opts: { from: string; to?: string }) => {
      const progress = (line: string) => process.stderr.write(`store copy: ${line}\n`);
      const target = copyTarget(opts.to, process.env);
      if (target.warning) progress(`warning: ${target.warning}`);
      // Loaded here: every other berth command starts faster without the database drivers.
      const { copySqliteToPostgres } = await import('../../store/store-copy.js');
      // Ctrl-C killed the copy by the default signal: no word said and not the shell's 130, so a script could not
      // tell it from a crash, nor a user whether the target was left half written (it is not: see interruptedLine).
      let committing = false;
      const onSignal = (signal: NodeJS.Signals) => {
        progress(interruptedLine(committing));
        process.exit(128 + constants.signals[signal]);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      progress(`copying ${opts.from} into ${describePostgresUrl(target.url)}`);
      let s;
      try {
        s = await copySqliteToPostgres(opts.from, target.url, progress, () => (committing = true));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      process.stdout.write(
        `copied ${s.apps} app(s), ${s.deleted} deleted app(s), ${s.tokens} token(s), ${s.requests} history record(s), ` +
          `${s.usage} usage row(s) and the store identity ${s.storeId} into ${describePostgresUrl(target.url)}\n`,
      );
    });
  return store;
}
