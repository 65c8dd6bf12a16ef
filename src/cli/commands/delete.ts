import { Command } from 'commander';
import type { AppView } from '../api-types.js';
import { seg } from '../client.js';
import { withClient } from '../context.js';
import { out } from '../output.js';

export function deleteCommand(): Command {
  return new Command('delete')
    .alias('rm')
    .description("delete apps: their containers are removed, their volumes kept unless --purge-volumes")
    .argument('<name...>', 'app names')
    .option('--purge-volumes', "also remove each app's volume and the data in it")
    .action(async (names: string[], opts: { purgeVolumes?: boolean }, cmd: Command) => {
      await withClient(cmd, async (client) => {
        for (const name of names) {
          // Asked first to say what happens to the volume; also fails early on a name that does not exist.
          const app = await client.call<AppView>('GET', `/v1/apps/${seg(name)}`);
          await client.call('DELETE', `/v1/apps/${seg(name)}`, { query: { purgeVolumes: opts.purgeVolumes } });
          const volume = `berth-${name}-data`;
          if (!app.spec.volume) out(`${name} deleted`);
          else if (opts.purgeVolumes) out(`${name} deleted, volume ${volume} removed`);
          else out(`${name} deleted, volume ${volume} kept (--purge-volumes removes it)`);
        }
      });
    });
}
