import { Command } from 'commander';
import { BadRequestError } from '../../errors.js';
import type { StatusView } from '../api-types.js';
import { seg } from '../client.js';
import { withClient } from '../context.js';
import { Progress } from '../progress.js';
import { shownText } from '../terminal-text.js';

/** `NAME=N` → its parts, or a usage error saying what was expected. */
export function parseScaleArg(arg: string): { name: string; replicas: number } {
  const m = /^([a-z0-9-]+)=(\d+)$/.exec(arg);
  if (!m) throw new BadRequestError(`expected NAME=REPLICAS, e.g. web=3, not "${arg}"`);
  return { name: m[1]!, replicas: Number(m[2]) };
}

/**
 * "2 of 3 instances ready (running)": what the gateway answered, as the terminal shows it. The
 * answer is the server's: its words (a hostile or broken one's ESC sequences, a CR) are shown escaped.
 */
export function scaledLine(status: { state?: unknown; replicas?: unknown; readyInstances?: unknown }, replicas: number): string {
  const shown = (v: unknown, fallback: string) => shownText(String(v ?? fallback), 40);
  return `${shown(status.readyInstances, '?')} of ${shown(status.replicas, String(replicas))} instances ready (${shown(status.state, '?')})`;
}

/** `berth scale NAME=N...`: how many instances run while each app is up. */
export function scaleCommand(): Command {
  return new Command('scale')
    .description('set how many instances of an app run (within its scale.min..scale.max); scaling down drains first')
    .argument('<name=replicas...>', 'e.g. web=3')
    .action(async (args: string[], _opts: unknown, cmd: Command) => {
      const targets = args.map(parseScaleArg);
      const progress = new Progress();
      await withClient(cmd, async (client) => {
        for (const { name, replicas } of targets) {
          progress.begin(name, `scaling to ${replicas}`);
          try {
            const status = await client.call<StatusView & { replicas?: number; readyInstances?: number }>('POST', `/v1/apps/${seg(name)}/scale`, { body: { replicas } });
            progress.done(name, scaledLine(status, replicas));
          } catch (err) {
            progress.failed();
            throw err;
          }
        }
      });
    });
}
