import { Command } from 'commander';
import { BadRequestError, RuntimeError } from '../../errors.js';
import type { HealthView } from '../api-types.js';
import { ApiClient } from '../client.js';
import type { GlobalOptions } from '../context.js';
import { note, out } from '../output.js';
import { ask } from '../prompt.js';
import { DEFAULT_URL, loadSaved, normalizeUrl, saveSettings, settingsFile, type SavedSettings } from '../settings.js';

export function configureCommand(): Command {
  return new Command('configure')
    .description('save the URL and token of a berth admin API, after checking them; asks on a terminal, or takes --url and --token')
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalOptions>();
      const file = settingsFile();
      // A broken file is what configure is there to replace.
      const saved: SavedSettings = await loadSaved(file).catch(() => ({}));
      const interactive = Boolean(process.stdin.isTTY) && (!flags.url || !flags.token);
      const env = process.env;
      let url = flags.url ?? (interactive ? undefined : env.BERTH_URL || saved.url || DEFAULT_URL);
      url ??= await ask('berth admin API URL', { fallback: env.BERTH_URL || saved.url || DEFAULT_URL });
      url = normalizeUrl(url);
      let token = flags.token ?? (interactive ? undefined : env.BERTH_TOKEN || saved.token);
      if (token === undefined && interactive) {
        const keep = saved.url === url ? saved.token : undefined;
        token = await ask('API token', { fallback: keep, secret: true, shownFallback: keep ? 'keep the saved one' : undefined });
      }
      if (!token) {
        throw new BadRequestError(
          interactive ? 'a token is required' : "no token: pass --token (standard input is not a terminal, so berth cannot ask); a gateway's first admin token is in the admin-token file beside its store",
        );
      }
      const version = await check(url, token, flags.token ? '--token' : interactive ? 'the token entered' : env.BERTH_TOKEN ? 'BERTH_TOKEN' : settingsFile());
      const where = await saveSettings({ url, token }, file);
      out(`${url}: token accepted by berth ${version}`);
      out(`saved to ${where} (readable only by you)`);
    });
}

/** Calls GET /v1/health with the token: a refused token fails (exit 5), an unreachable URL too (exit 6). */
async function check(url: string, token: string, tokenSource: string): Promise<string> {
  const client = new ApiClient({ url, token, tokenSource });
  try {
    const answer = await client.raw<HealthView>('GET', '/v1/health');
    const health = answer.body;
    if (!health || typeof health.version !== 'string') {
      throw new RuntimeError(`${url} answered HTTP ${answer.status}, but not like a berth admin API; check the URL (the admin listener, default ${DEFAULT_URL})`);
    }
    if (answer.status !== 200) note(`warning: the gateway answers but is ${health.status}: engine ${health.engine ?? 'unknown'}`);
    return health.version;
  } finally {
    await client.close().catch(() => undefined);
  }
}
