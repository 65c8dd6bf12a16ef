import { chmod, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BadRequestError, ConfigError } from '../errors.js';
import { fsReason } from '../fs-reason.js';
import { writeOwnerOnly } from '../owner-only-file.js';

/** Where the CLI finds the admin API when nothing says otherwise: the gateway's default admin listener. */
export const DEFAULT_URL = 'http://127.0.0.1:8081';

/** What `berth configure` saves. */
export interface SavedSettings {
  url?: string;
  token?: string;
}

/** The settings a command runs with, and where each came from (for messages). */
export interface Settings {
  url: string;
  token?: string;
  urlSource: string;
  tokenSource?: string;
}

/** `$XDG_CONFIG_HOME/berth/config.json`, or `~/.config/berth/config.json`. */
export function settingsFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'berth', 'config.json');
}

export async function loadSaved(file = settingsFile()): Promise<SavedSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected a JSON object');
    const { url, token } = value as Record<string, unknown>;
    return { url: typeof url === 'string' ? url : undefined, token: typeof token === 'string' ? token : undefined };
  } catch (err) {
    throw new ConfigError(`${file} is not valid settings (${unquotedJsonProblem(err)}); run 'berth configure' again`);
  }
}

/**
 * JSON.parse's complaint without the text it quotes: V8 cites the characters around the
 * fault (`Unexpected token 'h', ..."token": hunter2"... is not valid JSON`), and what a
 * settings file holds is the token, which would end up on stderr and in CI logs.
 */
function unquotedJsonProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /is not valid JSON$/.test(message) ? 'not valid JSON: an unexpected character' : message;
}

/** Flags beat the environment, which beats the saved file, which beats the default URL. */
export async function resolveSettings(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const file = settingsFile(env);
  const saved = flags.url && flags.token ? {} : await loadSaved(file);
  const [url, urlSource] = pick([flags.url, '--url'], [env.BERTH_URL, 'BERTH_URL'], [saved.url, file]) ?? [DEFAULT_URL, 'the default'];
  const token = pick([flags.token, '--token'], [env.BERTH_TOKEN, 'BERTH_TOKEN'], [saved.token, file]);
  return { url: normalizeUrl(url), urlSource, token: token?.[0], tokenSource: token?.[1] };
}

function pick(...candidates: Array<[string | undefined, string]>): [string, string] | undefined {
  const found = candidates.find(([value]) => value !== undefined && value !== '');
  return found as [string, string] | undefined;
}

/**
 * Why `token` cannot be sent as a bearer token, or undefined. berth's tokens are
 * printable ASCII; a space, line break or control character is a copying slip
 * (`BERTH_TOKEN="$(cat admin-token)\n"`), which the HTTP client would refuse as
 * only "invalid authorization header", not saying which setting is wrong.
 */
export function tokenProblem(token: string): string | undefined {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return `has ${c === 0x20 ? 'a space' : c === 0x0a || c === 0x0d ? 'a line break' : c < 0x20 || c === 0x7f ? 'a control character' : 'a character outside ASCII'} at position ${i + 1}; a berth token is printable ASCII only`;
  }
  return undefined;
}

/** Accepts `host:port` as well as a full URL; the API lives under `<url>/v1/`. */
export function normalizeUrl(input: string): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadRequestError(`"${input}" is not a URL; expected something like ${DEFAULT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError(`"${input}": only http:// and https:// URLs are supported`);
  // A password in the URL was never sent, yet every error line printed it (and configure saved it);
  // the input is not repeated here for that reason.
  if (url.username !== '' || url.password !== '') {
    throw new BadRequestError(`the URL carries a user name or password, which berth does not use: give ${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')} and the token with --token, BERTH_TOKEN or 'berth configure'`);
  }
  // The API's paths are appended to the URL: after a query or fragment they would name nothing.
  if (url.search !== '' || url.hash !== '') throw new BadRequestError(`"${input}": the URL must not have a query (?…) or fragment (#…); the API's paths are appended to it`);
  return url.toString().replace(/\/+$/, '');
}

/**
 * Saves the settings readable by their owner only: the token is a secret. The file is
 * created owner-only before any byte is written, beside its final name, and renamed
 * (writeOwnerOnly): a reader never sees half a file, a crash leaves the old one, and an
 * existing file's looser mode is not kept. The directory is the owner's only too.
 */
export async function saveSettings(settings: SavedSettings, file = settingsFile()): Promise<string> {
  const dir = dirname(file);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await writeOwnerOnly(file, JSON.stringify(settings, null, 2) + '\n');
  } catch (err) {
    // Node's own line ("ENOSPC: no space left on device, write") named neither the file nor,
    // being no BerthError, a reason the CLI knows (exit 1, as for a bug of its own).
    throw new ConfigError(`cannot save the settings to ${file}: ${fsReason(err)}; the saved settings are as they were`, { cause: err });
  }
  return file;
}
