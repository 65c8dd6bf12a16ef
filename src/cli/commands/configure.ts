import { Command } from 'commander';
import { BadRequestError, RuntimeError } from '../../errors.js';
import type { HealthView } from '../api-types.js';
import { ApiClient } from '../client.js';
import type { GlobalOptions } from '../context.js';
import { note, out } from '../output.js';
import { ask } from '../prompt.js';
import { DEFAULT_URL, loadSaved, normalizeUrl, saveSettings, settingsFile, type SavedSettings } from '../settings.js';
import { printable } from '../api-errors.js';

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
    const { version, warning } = healthOf(url, answer.status, answer.body);
    if (warning) note(warning);
    return version;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * The version to print from a GET /v1/health answer, and a warning when the gateway is not
 * healthy. The engine's state is the engine's own words (an error from its socket): printed on
 * one line, its control characters gone, as every server's words are. Pure.
 */
export function healthOf(url: string, status: number, health: HealthView | undefined): { version: string; warning?: string } {
  if (!health || typeof health.version !== 'string') {
    throw new RuntimeError(`${url} answered HTTP ${status}, but not like a berth admin API; check the URL (the admin listener, default ${DEFAULT_URL})`);
  }
  const version = printable(health.version);
  if (status === 200) return { version };
  return { version, warning: `warning: the gateway answers but is ${printable(String(health.status))}: engine ${printable(String(health.engine ?? 'unknown'))}` };
}
