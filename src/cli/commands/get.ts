import { Command } from 'commander';
import type { AppView } from '../api-types.js';
import { seg } from '../client.js';
import { paint } from '../colour.js';
import { withClient } from '../context.js';
import { note, outputOption, printData, type OutputFormat } from '../output.js';
import { appSummary } from './get-summary.js';

export function getCommand(): Command {
  return new Command('get')
    .description('show one app: state, routes and URLs, instances, spec')
    .argument('<name>', 'app name')
    .addOption(outputOption())
    .option('--export', 'print the spec as a berth/v1 document to edit and `berth apply -f` (YAML, or JSON with -o json)')
    .action(async (name: string, opts: { output: OutputFormat; export?: boolean }, cmd: Command) => {
      const app = await withClient(cmd, (client) => client.call<AppView>('GET', `/v1/apps/${seg(name)}`));
      if (opts.export) {
        // Loaded here alone: the spec parser it checks with is no other command's cost.
        const { exportApp } = await import('./get-export.js');
        const exported = exportApp(app, opts.output === 'json' ? 'json' : 'yaml');
        for (const line of exported.notes) note(line);
        process.stdout.write(exported.text);
        return;
      }
      if (printData(opts.output, app)) return;
      process.stdout.write(appSummary(app, paint()));
    });
}
