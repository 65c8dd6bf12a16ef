import { Command } from 'commander';
import { RuntimeError, exitCodeOf, messageOf } from '../../errors.js';
import { VERSION } from '../../version.js';
import type { VersionView } from '../api-types.js';
import { printable } from '../api-errors.js';
import { withClient } from '../context.js';
import { failureDocument, note, out, outputOption, printData, type OutputFormat } from '../output.js';

/**
 * The server's answer to GET /v1/version, checked: another JSON service at the URL (or a
 * gateway of another shape) answered an object without these, and was printed as
 * "server: berth undefined (api undefined…)" with exit 0. Pure.
 */
export function serverVersionOf(answer: unknown, url: string): VersionView {
  const view = answer as Partial<Record<keyof VersionView, unknown>> | null;
  const fields = ['version', 'api', 'node'] as const;
  if (typeof view !== 'object' || view === null || !fields.every((f) => typeof view[f] === 'string')) {
    throw new RuntimeError(`${url}/v1/version answered no berth version (version, api, node); is --url a berth admin API?`);
  }
  return { version: printable(view.version as string), api: printable(view.api as string), node: printable(view.node as string) };
}

export function versionCommand(): Command {
  return new Command('version')
    .description("print the CLI's version, then the server's (exit 6 when it cannot be read)")
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      let server: (VersionView & { url: string }) | null = null;
      let failure: unknown;
      try {
        server = await withClient(cmd, async (client) => ({ ...serverVersionOf(await client.call<unknown>('GET', '/v1/version'), client.baseUrl), url: client.baseUrl }));
      } catch (err) {
        failure = err;
      }
      const client = { version: VERSION, node: process.version };
      // The CLI's own version is always printed; a server that could not be read is still a failure a script
      // sees (`berth version && deploy` went on against a gateway that was down): its catalogue exit code.
      if (failure !== undefined) process.exitCode = exitCodeOf(failure);
      const error = failure === undefined ? {} : failureDocument(failure);
      if (printData(opts.output, { client, server, ...error })) return;
      out(`client: berth ${VERSION} (node ${process.version})`);
      if (server) out(`server: berth ${server.version} (api ${server.api}, node ${server.node}) at ${server.url}`);
      else note(`server: unknown: ${messageOf(failure)}`);
    });
}
