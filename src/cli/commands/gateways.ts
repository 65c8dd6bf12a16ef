import { Command } from 'commander';
import type { GatewayView } from '../../api/routes/gateways.js';
import { paint } from '../colour.js';
import { withClient } from '../context.js';
import { relativeTime } from '../format.js';
import { outputOption, printData, type OutputFormat } from '../output.js';
import { renderTable } from '../table.js';
import { shownText } from '../terminal-text.js';

interface GatewaysReply {
  self: string;
  leader: string | null;
  gateways: GatewayView[];
}

/** The table rows of `berth gateways`. Pure. */
export function gatewayRows(reply: GatewaysReply, nowMs: number): string[][] {
  // Each gateway wrote its own row into the shared store: shown, not obeyed by the terminal.
  return reply.gateways.map((g) => [
    shownText(g.id) + (g.self ? ' *' : ''),
    g.leader ? 'leader' : g.alive ? 'follower' : 'gone',
    shownText(g.proxyAddress),
    shownText(g.adminAddress),
    shownText(g.version),
    relativeTime(g.lastHeartbeat, nowMs),
    String(g.activity.reduce((n, a) => n + a.inFlight, 0)),
  ]);
}

export function gatewaysCommand(): Command {
  return new Command('gateways')
    .description('list the gateways sharing the store: leader, addresses, version, last heartbeat (* = the one answering)')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const reply = await withClient(cmd, (client) => client.call<GatewaysReply>('GET', '/v1/gateways'));
      if (printData(opts.output, reply)) return;
      const p = paint();
      process.stdout.write(renderTable(['ID', 'ROLE', 'PROXY', 'ADMIN', 'VERSION', 'HEARTBEAT', 'IN-FLIGHT'], gatewayRows(reply, Date.now()), p));
    });
}
