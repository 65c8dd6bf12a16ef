import { Command } from 'commander';
import type { AppView } from '../api-types.js';
import { seg } from '../client.js';
import { paint } from '../colour.js';
import { withClient } from '../context.js';
import { outputOption, printData, type OutputFormat } from '../output.js';
import { appSummary } from './get-summary.js';

export function getCommand(): Command {
  return new Command('get')
    .description('show one app: state, routes and URLs, instances, spec')
    .argument('<name>', 'app name')
    .addOption(outputOption())
    .action(async (name: string, opts: { output: OutputFormat }, cmd: Command) => {
      const app = await withClient(cmd, (client) => client.call<AppView>('GET', `/v1/apps/${seg(name)}`));
      if (printData(opts.output, app)) return;
      process.stdout.write(appSummary(app, paint()));
    });
}
