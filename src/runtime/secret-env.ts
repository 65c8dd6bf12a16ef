/**
 * Resolves the secret references of an app's env (`{fromFile}`, `{fromEnv}`) when
 * a container is created, and only then: the values live in the container's env
 * and nowhere else in berth. Errors name the field and the reference (a path or a
 * variable name), never a value.
 */
import { constants, promises as fs } from 'node:fs';
import { PolicyError, RuntimeError } from '../errors.js';
import { fsReason } from '../fs-reason.js';
import { readRegularFile } from '../regular-file.js';
import type { EnvValue } from '../spec/env-value.js';
import { formatPath } from '../spec/path.js';
import { isUnder } from '../spec/policy.js';
import { secretRefIssues, type SecretPolicy } from '../spec/secret-policy.js';

/** Where references are read from, and what the policy allows now. */
export interface SecretSources {
  policy: SecretPolicy;
  /** The gateway's own environment, for `fromEnv`. */
  env: NodeJS.ProcessEnv;
}

/** Most bytes of a secret file: it becomes one env value, not a blob. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** The values of the env's references, by variable name; literals and plain values are not included. */
export async function resolveSecretRefs(appName: string, env: Readonly<Record<string, EnvValue>>, sources: SecretSources): Promise<Record<string, string>> {
  // The policy may have narrowed since the app was accepted.
  const denied = secretRefIssues(appName, env, sources.policy);
  if (denied.length > 0) throw new PolicyError(denied.map((d) => ({ path: formatPath(d.path), message: d.message })));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== 'object') continue;
    if ('fromFile' in value) {
      const field = formatPath(['env', key, 'fromFile']);
      out[key] = oneLine(field, 'the file', await readSecretFile(field, value.fromFile, sources.policy.secretFiles ?? [], sources.policy.secretFileRoots));
    } else if ('fromEnv' in value) {
      const field = formatPath(['env', key, 'fromEnv']);
      const found = sources.env[value.fromEnv];
      if (found === undefined) throw new RuntimeError(`${field}: the gateway's environment has no variable ${value.fromEnv}`);
      out[key] = oneLine(field, `variable ${value.fromEnv}`, found);
    }
  }
  return out;
}

/**
 * One final newline is dropped (files written by `echo` or an editor end with one);
 * what is left must be one line without NUL, as every env value.
 */
function oneLine(field: string, what: string, text: string): string {
  const value = text.replace(/\r?\n$/, '');
  if (/[\r\n\0]/.test(value)) throw new RuntimeError(`${field}: ${what} holds a line break or NUL (one final newline is dropped); env values must be one line`);
  return value;
}

/**
 * Reads a secret file whose real path (symbolic links resolved) lies under one of
 * the real roots, so a link swapped in later cannot point it elsewhere. The roots are
 * those resolved when the config was loaded (`resolvedRoots`): resolved again here, a
 * root swapped for a link to `/` would allow every file on the host. Only a regular
 * file is read: a FIFO or a device could block or never end.
 */
async function readSecretFile(field: string, path: string, roots: readonly string[], resolvedRoots?: readonly string[]): Promise<string> {
  const real = await fs.realpath(path).catch((err: unknown) => {
    throw new RuntimeError(`${field}: cannot read ${path}: ${fsReason(err)}`);
  });
  const realRoots = resolvedRoots ?? (await Promise.all(roots.map((root) => fs.realpath(root).catch(() => undefined))));
  if (!realRoots.some((root) => root !== undefined && isUnder(real, root))) {
    throw new PolicyError([{ path: field, message: `"${path}" resolves to a path outside policy.secretFiles (${roots.join(', ') || 'none allowed'})` }]);
  }
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw new RuntimeError(`${field}: cannot read ${path}: ${fsReason(err)}`);
  }
  try {
    const read = await readRegularFile(handle, MAX_SECRET_FILE_BYTES);
    if (typeof read === 'string') return read;
    if (read.refused === 'not-regular') throw new RuntimeError(`${field}: ${path} is not a regular file`);
    throw new RuntimeError(`${field}: ${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
  } finally {
    await handle.close();
  }
}
