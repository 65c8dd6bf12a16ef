import { Command } from 'commander';
import { withClient } from '../context.js';
import { Progress } from '../progress.js';
import { runLifecycle, type LifecycleAction } from './lifecycle-run.js';

const descriptions: Record<LifecycleAction, string> = {
  start: 'start an app and wait until it is ready',
  stop: 'stop an app once its requests in flight are done (container and volume kept)',
  restart: 'stop an app, then start it and wait until it is ready',
};

/** `berth start|stop|restart NAME...`. */
export function lifecycleCommands(): Command[] {
  return (['start', 'stop', 'restart'] as const).map((action) =>
    new Command(action)
      .description(descriptions[action])
      .argument('<name...>', 'app names')
      .action(async (names: string[], _opts: unknown, cmd: Command) => {
        const progress = new Progress();
        await withClient(cmd, async (client) => {
          for (const name of names) await runLifecycle(client, name, action, progress);
        });
      }),
  );
}
