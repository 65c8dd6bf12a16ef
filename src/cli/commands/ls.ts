import { Command } from 'commander';
import { asFlagError } from '../api-errors.js';
import type { AppView } from '../api-types.js';
import { idleIn, instanceCount, routeLabel, stateLabel } from '../app-display.js';
import { paint, type Paint } from '../colour.js';
import { withClient } from '../context.js';
import { relativeTime } from '../format.js';
import { note, outputOption, printData, type OutputFormat } from '../output.js';
import { MAX_PAGE, pageSize } from '../page-option.js';
import { renderTable } from '../table.js';
import { shownText } from '../terminal-text.js';

/** The most characters of the ROUTES column (an app may have many); -o json has them all. */
const MAX_ROUTES = 80;
import { RuntimeError } from '../../errors.js';

interface AppPage {
  apps: AppView[];
  next?: string;
}

/** One page of GET /v1/apps as the server answered it, refused when it holds no list of apps. */
function appPage(page: AppPage): AppPage {
  if (!Array.isArray(page?.apps)) throw new RuntimeError('the server answered GET /v1/apps without a list of apps; is it a berth admin API?');
  return page;
}

/** GET /v1/apps answers a page at a time (by name): every page, followed to the end, 1,000 at a time. */
export async function allApps(get: (path: string) => Promise<AppPage>): Promise<AppView[]> {
  const apps: AppView[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = appPage(await get(`/v1/apps?limit=${MAX_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
    apps.push(...page.apps);
    cursor = page.next;
    // A server whose pages never end (the same cursor again, or empty pages with a next) must not keep the CLI for ever.
    if (cursor !== undefined && (typeof cursor !== 'string' || seen.has(cursor) || page.apps.length === 0)) {
      throw new RuntimeError(`the server's pages of GET /v1/apps do not end (after ${apps.length} apps); is it a berth admin API?`);
    }
    if (cursor) seen.add(cursor);
  } while (cursor);
  return apps;
}

interface LsOptions {
  output: OutputFormat;
  limit?: number;
  cursor?: string;
}

export function lsCommand(): Command {
  return new Command('ls')
    .alias('list')
    .description('list apps: state, routes, instances, last request, time until idle stop')
    .option('--limit <n>', `one page of at most this many apps, by name (1 to ${MAX_PAGE}); without it, every app`, pageSize)
    .option('--cursor <cursor>', 'the page after the one a previous call ended with (its "more:" hint)')
    .addOption(outputOption())
    .action(async (opts: LsOptions, cmd: Command) => {
      const paged = opts.limit !== undefined || opts.cursor !== undefined;
      const { apps, next } = await withClient(cmd, async (client) => {
        if (!paged) return { apps: await allApps((path) => client.call<AppPage>('GET', path)), next: undefined };
        return appPage(await client.call<AppPage>('GET', '/v1/apps', { query: { limit: opts.limit, cursor: opts.cursor } }));
      }).catch((err: unknown) => {
        throw asFlagError(err, ['limit', 'cursor']);
      });
      // The hint goes to stderr, so -o json and -o yaml still print the apps alone.
      const more = typeof next === 'string' && next !== '' ? `more: berth ls${opts.limit === undefined ? '' : ` --limit ${opts.limit}`} --cursor ${shownText(next)}` : undefined;
      if (printData(opts.output, apps)) {
        if (more) note(more);
        return;
      }
      if (apps.length === 0) {
        note(paged ? 'no apps on this page' : "no apps yet; 'berth apply -f FILE' creates some");
        return;
      }
      process.stdout.write(appsTable(apps, paint(), Date.now()));
      const refused = refusedNote(apps);
      if (refused) note(refused);
      if (more) note(more);
    });
}

/** The line under the table when the policy refuses some apps' specs, naming the first few; undefined when none. Pure. */
export function refusedNote(apps: readonly AppView[]): string | undefined {
  const refused = apps.filter((app) => app.status?.policyRefused).map((app) => shownText(app.name, 40));
  if (refused.length === 0) return undefined;
  const named = refused.length > 3 ? `${refused.slice(0, 3).join(', ')} and ${refused.length - 3} more` : refused.join(', ');
  return `refused: the gateway's policy refuses the spec of ${named}; no new container is made for it ('berth get NAME' says why)`;
}

/** The table `berth ls` prints. Pure. */
export function appsTable(apps: readonly AppView[], p: Paint, now: number): string {
  const rows = apps.map((app) => [
    // Names and routes come from specs others applied: shown, not obeyed by the terminal.
    shownText(app.name),
    // kubectl's "Ready,SchedulingDisabled": a policy reloaded since the app started may refuse
    // its spec; what runs serves on, but no new container is made, which `berth ls` must not hide.
    app.status?.policyRefused ? `${stateLabel(app.state, p)}${p.yellow(',refused')}` : stateLabel(app.state, p),
    shownText(app.routes.map(routeLabel).join(','), MAX_ROUTES) || '-',
    instanceCount(app),
    relativeTime(app.status?.lastActivity, now),
    idleIn(app, now),
  ]);
  return renderTable(['NAME', 'STATE', 'ROUTES', 'INSTANCES', 'LAST-REQUEST', 'IDLE-IN'], rows, p);
}
