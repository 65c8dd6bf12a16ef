import { Command } from 'commander';
import type { AppView } from '../api-types.js';
import { idleIn, instanceCount, routeLabel, stateLabel } from '../app-display.js';
import { paint } from '../colour.js';
import { withClient } from '../context.js';
import { relativeTime } from '../format.js';
import { note, outputOption, printData, type OutputFormat } from '../output.js';
import { renderTable } from '../table.js';

export function lsCommand(): Command {
  return new Command('ls')
    .alias('list')
    .description('list apps: state, routes, instances, last request, time until idle stop')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const { apps } = await withClient(cmd, (client) => client.call<{ apps: AppView[] }>('GET', '/v1/apps'));
      if (printData(opts.output, apps)) return;
      if (apps.length === 0) {
        note("no apps yet; 'berth apply -f FILE' creates some");
        return;
      }
      const p = paint();
      const now = Date.now();
      const rows = apps.map((app) => [
        app.name,
        stateLabel(app.state, p),
        app.routes.map(routeLabel).join(',') || '-',
        instanceCount(app),
        relativeTime(app.status?.lastActivity, now),
        idleIn(app, now),
      ]);
      process.stdout.write(renderTable(['NAME', 'STATE', 'ROUTES', 'INSTANCES', 'LAST-REQUEST', 'IDLE-IN'], rows, p));
    });
}
