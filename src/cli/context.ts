import type { Command } from 'commander';
import { ApiClient } from './client.js';
import { resolveSettings } from './settings.js';

/** The global options every command inherits from `berth`. */
export interface GlobalOptions {
  url?: string;
  token?: string;
}

/** A client for the settings in force for `cmd`: flags, then BERTH_URL/BERTH_TOKEN, then the saved file. */
export async function clientFor(cmd: Command): Promise<ApiClient> {
  const flags = cmd.optsWithGlobals<GlobalOptions>();
  const settings = await resolveSettings({ url: flags.url, token: flags.token });
  return new ApiClient({ url: settings.url, token: settings.token, tokenSource: settings.tokenSource });
}

/** Runs `work` with a client and closes its connections afterwards, so the process can exit. */
export async function withClient<T>(cmd: Command, work: (client: ApiClient) => Promise<T>): Promise<T> {
  const client = await clientFor(cmd);
  try {
    return await work(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}
