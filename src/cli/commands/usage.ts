import { asFlagError } from '../api-errors.js';
import { Command } from 'commander';
import type { UsageFigures, UsageReport } from '../../accounting/usage-report.js';
import { paint, type Paint } from '../colour.js';
import { withClient } from '../context.js';
import { note, outputOption, printData, type OutputFormat } from '../output.js';
import { renderTable } from '../table.js';
import { shownText } from '../terminal-text.js';

interface UsageOptions {
  since?: string;
  app?: string;
  days?: boolean;
  output: OutputFormat;
}

const HEADERS = ['RUNNING', 'PAUSED', 'IDLE', 'REQUESTS', 'SAVING'];

export function usageCommand(): Command {
  return new Command('usage')
    .description('container time per app (running, paused, idle), requests, and the saving against running always on')
    .option('--since <when>', 'from the UTC day of this: a duration back from now (7d, 12h) or an ISO time (default 7d)')
    .option('--app <name>', 'only this app')
    .option('--days', 'one row per app per UTC day')
    .addOption(outputOption())
    .action(async (opts: UsageOptions, cmd: Command) => {
      const { since, app } = opts;
      const report = await withClient(cmd, (client) => client.call<UsageReport>('GET', '/v1/usage', { query: { since, app } })).catch((err: unknown) => {
        throw asFlagError(err, ['since', 'app']);
      });
      if (printData(opts.output, report)) return;
      if (report.apps.length === 0) {
        note(`no usage recorded${app ? ` for ${app}` : ''} since ${shownText(report.since)}`);
        return;
      }
      const p = paint();
      if (opts.days) {
        const rows = report.days.map((d) => [shownText(d.app), shownText(d.day), ...cells(d, p)]);
        process.stdout.write(renderTable(['APP', 'DAY', ...HEADERS], rows, p));
      } else {
        const rows = report.apps.map((a) => [shownText(a.app), ...cells(a, p)]);
        if (report.apps.length > 1) rows.push([p.bold('TOTAL'), ...cells(report.total, p)]);
        process.stdout.write(renderTable(['APP', ...HEADERS], rows, p));
      }
      note(`since ${shownText(report.since)} (UTC); SAVING: share of the always-on container time not spent running`);
    });
}

function cells(f: UsageFigures, p: Paint): string[] {
  return [containerTime(f.runningSeconds), containerTime(f.pausedSeconds), containerTime(f.idleSeconds), String(f.requests), savingLabel(f, p)];
}

/** `42s`, `12m 05s`, `3h 07m`, and from 100 hours `123.4h`. */
export function containerTime(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
  if (s < 100 * 3600) {
    const m = Math.round(s / 60);
    return `${Math.floor(m / 60)}h ${two(m % 60)}m`;
  }
  return `${(s / 3600).toFixed(1)}h`;
}

function savingLabel(f: UsageFigures, p: Paint): string {
  if (f.savingPercent === null) return p.dim('-');
  const text = `${f.savingPercent.toFixed(1)}%`;
  return f.savingPercent > 0 ? p.green(text) : text;
}
