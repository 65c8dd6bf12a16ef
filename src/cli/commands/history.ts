import { Command } from 'commander';
import { asFlagError } from '../api-errors.js';
import type { HistoryPageView, RequestRecordView } from '../api-types.js';
import { seg } from '../client.js';
import { paint, type Paint } from '../colour.js';
import { withClient } from '../context.js';
import { byteSize, localInstant, localTime, preciseDuration } from '../format.js';
import { note, outputOption, printData, type OutputFormat } from '../output.js';
import { MAX_PAGE, pageSize } from '../page-option.js';
import { renderTable } from '../table.js';
import { shownText } from '../terminal-text.js';

/** The most characters of a request target the PATH column shows; -o json has it whole. */
const MAX_PATH = 80;

interface HistoryOptions {
  since?: string;
  until?: string;
  status?: string;
  limit?: number;
  cursor?: string;
  output: OutputFormat;
}

export function historyCommand(): Command {
  return new Command('history')
    .description("an app's proxied requests, newest first")
    .argument('<name>', 'app name')
    .option('--since <when>', 'only requests since this: a duration back from now (15m, 2h, 1d) or an ISO time (local unless it gives a zone, as TIME shows it)')
    .option('--until <when>', 'only requests before this: a duration back from now or an ISO time (local unless it gives a zone)')
    .option('--status <status>', 'only this status (404) or class (5xx)')
    .option('--limit <n>', `at most this many (1 to ${MAX_PAGE}, default 100)`, pageSize)
    .option('--cursor <cursor>', 'the next page, from the hint a previous call printed')
    .addOption(outputOption())
    .action(async (name: string, opts: HistoryOptions, cmd: Command) => {
      const { since, until, status, limit, cursor } = opts;
      const page = await withClient(cmd, (client) =>
        client.call<HistoryPageView>('GET', `/v1/apps/${seg(name)}/history`, { query: { since: since && localInstant(since), until: until && localInstant(until), status, limit, cursor } }),
      ).catch((err: unknown) => {
        throw asFlagError(err, ['since', 'until', 'status', 'limit', 'cursor']);
      });
      if (printData(opts.output, page)) return;
      if (page.items.length === 0) {
        note(`no requests recorded for ${name}${since || until || status ? ' with these filters' : ''}`);
        return;
      }
      process.stdout.write(historyTable(page.items, paint()));
      if (page.next) {
        const filters = Object.entries({ since, until, status, limit }).flatMap(([k, v]) => (v === undefined ? [] : [`--${k} ${v}`]));
        note(`more: berth history ${[name, ...filters].join(' ')} --cursor ${shownText(page.next)}`);
      }
    });
}

/** The table `berth history` prints. Pure. */
export function historyTable(items: readonly RequestRecordView[], p: Paint): string {
  // Several gateways on one store: each record names the one that served it.
  const gateways = items.some((r) => r.gateway !== undefined);
  const rows = items.map((r) => [
    shownText(localTime(r.time)),
    // Whoever sent the request chose these: a path can carry escapes (HTTP/2 lets C1 bytes through) and run for kilobytes.
    shownText(r.method, MAX_PATH),
    shownText(r.path, MAX_PATH),
    statusLabel(r.status, p),
    preciseDuration(r.durationMs),
    byteSize(r.bytesOut),
    r.waited ? 'yes' : 'no',
    ...(gateways ? [shownText(r.gateway ?? '-', MAX_PATH)] : []),
  ]);
  return renderTable(['TIME', 'METHOD', 'PATH', 'STATUS', 'DURATION', 'BYTES', 'WAITED', ...(gateways ? ['GATEWAY'] : [])], rows, p);
}

function statusLabel(status: number, p: Paint): string {
  // 0: the client went away before an answer.
  if (status === 0) return p.dim('-');
  if (status >= 500) return p.red(String(status));
  if (status >= 400) return p.yellow(String(status));
  return String(status);
}
