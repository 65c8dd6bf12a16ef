import { Command } from 'commander';
import type { CreatedTokenView, TokenView } from '../api-types.js';
import { seg } from '../client.js';
import { paint, type Paint } from '../colour.js';
import { withClient } from '../context.js';
import { relativeTime } from '../format.js';
import { note, out, outputOption, printData, type OutputFormat } from '../output.js';
import { renderTable } from '../table.js';
import { shownText } from '../terminal-text.js';

/** `berth token create|ls|revoke`: API tokens, whose secrets are shown once. */
export function tokenCommand(): Command {
  const token = new Command('token').description('manage API tokens');
  token
    .command('create')
    .description('create a token; its secret is printed once and never again')
    .argument('<name>', 'what the token is for, e.g. ci or alice')
    .addOption(outputOption())
    .action(async (name: string, opts: { output: OutputFormat }, cmd: Command) => {
      const created = await withClient(cmd, (client) => client.call<CreatedTokenView>('POST', '/v1/tokens', { body: { name } }));
      note(`token ${shownText(created.name)} created (id ${shownText(created.id)}); copy the secret now, it will not be shown again`);
      if (printData(opts.output, created)) return;
      out(created.token);
    });
  token
    .command('ls')
    .alias('list')
    .description('list tokens by name and creation time (never their secrets)')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const { tokens } = await withClient(cmd, (client) => client.call<{ tokens: TokenView[] }>('GET', '/v1/tokens'));
      if (printData(opts.output, tokens)) return;
      if (tokens.length === 0) {
        note('no tokens in the store (the admin token may come from BERTH_ADMIN_TOKEN)');
        return;
      }
      process.stdout.write(tokensTable(tokens, paint(), Date.now()));
    });
  token
    .command('revoke')
    .description('revoke a token by id or name; calls with it fail from now on')
    .argument('<id-or-name>', "the token's id or name")
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      await withClient(cmd, (client) => client.call('DELETE', `/v1/tokens/${seg(idOrName)}`));
      out(`token ${idOrName} revoked`);
    });
  return token;
}

/** The table `berth token ls` prints. Pure. */
export function tokensTable(tokens: readonly TokenView[], p: Paint, now: number): string {
  const rows = tokens.map((t) => [shownText(t.id), shownText(t.name), relativeTime(t.createdAt, now), relativeTime(t.lastUsedAt, now)]);
  return renderTable(['ID', 'NAME', 'CREATED', 'LAST-USED'], rows, p);
}
