import { Command } from 'commander';
import { describePostgresUrl } from '../../store/store-location.js';

export function storeCommand(): Command {
  const store = new Command('store').description("operate on a gateway's store directly (not through the API)");
  store
    .command('copy')
    .description("copy a SQLite store's whole state (apps, tokens, secrets, history, usage, identity) into an empty PostgreSQL store")
    .requiredOption('--from <file>', 'the SQLite store file, e.g. ./data/berth.db')
    .requiredOption('--to <url>', 'the PostgreSQL store, postgres://user:password@host:5432/db (its database must be empty)')
    .action(async (opts: { from: string; to: string }) => {
      // Loaded here: every other berth command starts faster without the database drivers.
      const { copySqliteToPostgres } = await import('../../store/store-copy.js');
      const progress = (line: string) => process.stderr.write(`store copy: ${line}\n`);
      progress(`copying ${opts.from} into ${describePostgresUrl(opts.to)}`);
      const s = await copySqliteToPostgres(opts.from, opts.to, progress);
      process.stdout.write(
        `copied ${s.apps} app(s), ${s.deleted} deleted app(s), ${s.tokens} token(s), ${s.requests} history record(s), ` +
          `${s.usage} usage row(s) and the store identity ${s.storeId} into ${describePostgresUrl(opts.to)}\n`,
      );
    });
  return store;
}
