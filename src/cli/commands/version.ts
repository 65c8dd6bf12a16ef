import { Command } from 'commander';
import { messageOf } from '../../errors.js';
import { VERSION } from '../../version.js';
import type { VersionView } from '../api-types.js';
import { withClient } from '../context.js';
import { note, out, outputOption, printData, type OutputFormat } from '../output.js';

export function versionCommand(): Command {
  return new Command('version')
    .description("print the CLI's version, and the server's when it can be reached")
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      let server: (VersionView & { url: string }) | null = null;
      let unreachable: string | undefined;
      try {
        server = await withClient(cmd, async (client) => ({ ...(await client.call<VersionView>('GET', '/v1/version')), url: client.baseUrl }));
      } catch (err) {
        unreachable = messageOf(err);
      }
      if (printData(opts.output, { client: { version: VERSION, node: process.version }, server })) return;
      out(`client: berth ${VERSION} (node ${process.version})`);
      if (server) out(`server: berth ${server.version} (api ${server.api}, node ${server.node}) at ${server.url}`);
      else note(`server: not reachable: ${unreachable}`);
    });
}
