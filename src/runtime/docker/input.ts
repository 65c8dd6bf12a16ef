/**
 * Input JSON (django_docker_engine's input.json), handed to the container the way
 * its spec asks: in an environment variable, in a read-only file put into the
 * container before it first starts, or as a URL to fetch it from the gateway.
 */
import { posix } from 'node:path';
import type Docker from 'dockerode';
import { RuntimeError } from '../../errors.js';
import type { InputSpec } from '../../spec/types.js';
import type { DockerContext } from './context.js';
import { engineMessage, mapDockerError, statusOf } from './errors.js';
import { tarArchive, type TarEntry } from './tar.js';

/** Set for `input.as: file`, so the app knows where its input is. */
export const INPUT_FILE_ENV = 'BERTH_INPUT_FILE';

/** Mode of the input file: readable by every user, writable by none. */
export const INPUT_FILE_MODE = 0o444;

/** Mode of directories created to hold it. */
const DIR_MODE = 0o755;

/**
 * The environment variables input adds. `inputUrl` is the signed URL the gateway
 * serves the input at; an app taking input by URL cannot be created without it.
 */
export function inputEnv(app: string, input: InputSpec | undefined, inputUrl: string | undefined): Record<string, string> {
  if (!input) return {};
  switch (input.as) {
    case 'env':
      return { [input.env]: input.json };
    case 'file':
      return { [INPUT_FILE_ENV]: input.path };
    case 'url':
      if (inputUrl === undefined) {
        throw new RuntimeError(`app ${app} takes its input by URL (input.as: url), but this runtime was not told the gateway's input URL`);
      }
      return { [input.env]: inputUrl };
  }
}

/**
 * The archive that puts `json` at `path` when extracted at `base`, an existing
 * directory that is an ancestor of `path`: the missing directories in between
 * (0755) and the file itself (0444), all owned by root.
 */
export function inputFileArchive(path: string, base: string, json: string, mtime?: Date): Buffer {
  const relative = posix.relative(base, path);
  const parts = relative.split('/');
  const entries: TarEntry[] = parts.slice(0, -1).map((_, i) => ({ name: parts.slice(0, i + 1).join('/'), type: 'dir', mode: DIR_MODE }));
  entries.push({ name: relative, type: 'file', mode: INPUT_FILE_MODE, content: json });
  return tarArchive(entries, { mtime });
}

/** `/a/b/c.json` → `['/a/b', '/a', '/']`: where the archive may be extracted, deepest first. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let dir = posix.dirname(path); ; dir = posix.dirname(dir)) {
    out.push(dir);
    if (dir === '/') return out;
  }
}

/**
 * Puts the input file into a created (not yet started) container through the
 * Engine API's archive upload, so it works on a remote engine too. The engine
 * extracts only into a directory that exists, so the deepest existing ancestor of
 * the path is found by trying (404: missing) and the archive there creates the
 * directories in between; existing directories are never rewritten. The file
 * stays with the container across stops and starts; a recreated container gets it
 * again. Mode 0444 keeps a non-root app from changing it (root in the container
 * could still chmod it).
 */
export async function putInputFile(ctx: DockerContext, container: Docker.Container, name: string, input: InputSpec): Promise<void> {
  const path = posix.normalize(input.path);
  const doing = `putting the input file ${path} into container ${name}`;
  const mtime = new Date();
  for (const base of ancestors(path)) {
    try {
      await container.putArchive(inputFileArchive(path, base, input.json, mtime), { path: base, noOverwriteDirNonDir: true });
      return;
    } catch (err) {
      if (statusOf(err) === 404 && base !== '/') continue;
      if (statusOf(err) === 400) throw new RuntimeError(`${doing}: ${engineMessage(err)}`, { cause: err });
      throw mapDockerError(err, doing, ctx.endpoint.url);
    }
  }
}
