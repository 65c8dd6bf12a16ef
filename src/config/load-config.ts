import { constants } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fsReason } from '../fs-reason.js';
import { readRegularBytes } from '../regular-file.js';
import { ConfigError, SpecError, messageOf, type FieldProblem } from '../errors.js';
import { parseDuration, parseLongDuration, parseSize, gatewayClaims, parseSpecObject, validateAppSet } from '../spec/index.js';
import { sizeText } from '../spec/size.js';
import { BUILT_IN_RESOURCES } from '../runtime/docker/container-config.js';
import { parseSpecTextOffThread, readConfigTextOffThread } from '../spec/parse-off-thread.js';
import type { LineOf } from './config-text.js';
import { resolveRoot } from '../spec/mount-paths.js';
import type { PathSegment } from '../spec/path.js';
import { specText } from '../spec/utf8-text.js';
import type { AppSpec, ResourcesSpec } from '../spec/types.js';
import { isPostgresUrl, storeLocationProblem } from '../store/store-location.js';
import { trustedEntry } from '../proxy/trusted-peers.js';
import { configFileSchema, workerCount, type ConfigFileInput } from './config-schema.js';
import type { GatewayConfig, GatewayTimeouts, HostPort, TlsConfig } from './config.js';
import { emptiedSpecProblem, halfWrittenProblem } from './reload-changes.js';
import { secretRootProblems } from './secret-roots.js';

const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Reads and validates the whole configuration, spec files included. Either
 * everything is valid and a complete GatewayConfig comes back, or it throws
 * with every problem listed: a reload that fails keeps the old config serving.
 * `previous` (a reload): a file that looks half-written is refused too.
 */
export async function loadConfig(file: string, previous?: GatewayConfig): Promise<GatewayConfig> {
  const path = resolve(file);
  const { raw, lineOf } = await readConfigFile(path);
  const halfWritten = previous && halfWrittenProblem(raw, previous);
  if (halfWritten) throw new ConfigError(`config ${path} ${halfWritten}`);
  return buildConfig(raw, dirname(path), path, lineOf, previous);
}

/**
 * The spec files and directories a config file names in `apps`, resolved, whether or not
 * the rest of it is valid; none when it cannot be read. A refused reload's config may name
 * a spec file not written yet: watched, its creation reloads, as the operator expects.
 */
export async function sourcesNamedBy(file: string): Promise<string[]> {
  const path = resolve(file);
  const read = await readConfigFile(path).catch(() => undefined);
  const apps = read && typeof read.raw === 'object' && read.raw !== null && 'apps' in read.raw ? read.raw.apps : undefined;
  return Array.isArray(apps) ? apps.filter((e): e is string => typeof e === 'string').map((e) => resolve(dirname(path), e)) : [];
}

/** The config file's YAML as a value, and where each field is; a ConfigError naming the file if it cannot be read or parsed. */
async function readConfigFile(path: string): Promise<{ raw: unknown; lineOf: LineOf | undefined }> {
  const bytes = await readSourceFile(path);
  if (typeof bytes === 'string') throw new ConfigError(`cannot read config ${path}: ${bytes}`);
  const decoded = specText(bytes);
  if (!decoded.ok) throw new ConfigError(`config ${path} is ${decoded.message}`);
  // A large text is read off the event loop: a reload happens while the proxy serves.
  const { config, lineOf } = await readConfigTextOffThread(decoded.text, path).catch((err: unknown) => Promise.reject(new ConfigError(`config ${path}: ${messageOf(err)}`)));
  if (!config.ok) throw new ConfigError(`config ${path}${config.problem}`);
  return { raw: config.raw, lineOf };
}

/** `apps[1].routes[0].path` as segments: ['apps', 1, 'routes', 0, 'path']. Pure. */
/**
 * One `trustedProxies` entry, in the form the proxy compares peer addresses in: an address
 * or a CIDR range. A name or a port would never match a peer, and the balancer meant would
 * silently lose its X-Forwarded-* headers.
 */
function trustedProxy(entry: string): string {
  const trusted = trustedEntry(entry);
  if (trusted === undefined) throw new Error(`${JSON.stringify(entry)} is neither an IP address nor a CIDR range (10.0.0.0/8, fd00::/8): no name or port`);
  return trusted;
}

function pathSegments(text: string): PathSegment[] {
  return [...text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

/**
 * Validates a config object; relative paths resolve against `baseDir`; `lineOf` (a file's text) adds each problem's line.
 * `previous` (a reload): a spec file emptied under the apps it declared is refused.
 */
export async function buildConfig(raw: unknown, baseDir: string, file?: string, lineOf?: LineOf, previous?: GatewayConfig): Promise<GatewayConfig> {
  const where = file ?? 'config';
  const at = (path: readonly PathSegment[]) => {
    const line = lineOf?.(path);
    return line === undefined ? '' : ` (line ${line})`;
  };
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const path = i.path.filter((k): k is PathSegment => typeof k !== 'symbol');
      // A misspelt key is on its own line, not on its parent's.
      return `${formatPath(i.path)}: ${i.message}${at(i.code === 'unrecognized_keys' && i.keys[0] !== undefined ? [...path, i.keys[0]] : path)}`;
    });
    throw new ConfigError(`${where}: ${problems.join('; ')}`);
  }
  const input: ConfigFileInput = parsed.data;
  const problems: string[] = [];
  const field = <T>(name: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}${at(pathSegments(name))}`);
      return undefined;
    }
  };
  const listen = field('listen', () => parseHostPort(input.listen));
  const admin = field('admin', () => parseHostPort(input.admin));
  // 0 is refused as a spec's idleTimeout is: it stopped every app the moment its last request ended, it never meant "never".
  const idleTimeoutMs = field('defaults.idleTimeout', () => positiveDuration(input.defaults.idleTimeout));
  const drainTimeoutMs = field('drainTimeout', () => parseDuration(input.drainTimeout));
  const resyncMs = field('resync', () => positiveDuration(input.resync));
  const taskPollMs = field('swarm.taskPoll', () => positiveDuration(input.swarm.taskPoll));
  // A retention, never a timer's: a month of history is fine.
  const historyMaxAgeMs = field('history.maxAge', () => parseLongDuration(input.history.maxAge));
  const usageMaxAgeMs = field('usage.maxAge', () => positiveLongDuration(input.usage.maxAge));
  const maxResources = input.policy.maxResources && field('policy.maxResources.memory', () => resourceBounds(input.policy.maxResources!));
  const resources = field('defaults.resources.memory', () => defaultResources(input.defaults.resources));
  if (resources && maxResources) problems.push(...defaultsAboveBounds(resources, maxResources).map((p) => `${p}${at(pathSegments(p.slice(0, p.indexOf(':'))))}`));
  const timeouts = gatewayTimeouts(input.timeouts, field);
  const startSlotHoldMs = field('limits.startSlotHold', () => parseDuration(input.limits.startSlotHold));
  const tls = input.tls && field('tls', () => tlsConfig(input.tls!, baseDir));
  const trustedProxies = input.trustedProxies.map((entry, i) => field(`trustedProxies[${i}]`, () => trustedProxy(entry)));
  const storeFromEnv = Boolean(process.env.BERTH_STORE);
  const storage = storeSetting(process.env.BERTH_STORE || input.store, baseDir);
  const storeProblem = storeLocationProblem(process.env.BERTH_STORE || input.store);
  if (storeProblem) problems.push(storeFromEnv ? `BERTH_STORE (which wins over store): ${storeProblem}` : `store: ${storeProblem}${at(['store'])}`);
  const hostRootProblems = [
    ...secretRootProblems((input.policy.secretFiles ?? []).map((p) => resolve(baseDir, p)), storage.stateDir),
    ...secretRootProblems(input.policy.bindMountRoots.map((p) => resolve(baseDir, p)), storage.stateDir, undefined, 'policy.bindMountRoots'),
  ];
  problems.push(...hostRootProblems.map((p) => `${p}${at(pathSegments(p.slice(0, p.indexOf(':'))))}`));
  if (problems.length > 0 || !listen || !admin || idleTimeoutMs === undefined || drainTimeoutMs === undefined || resyncMs === undefined || taskPollMs === undefined || historyMaxAgeMs === undefined || usageMaxAgeMs === undefined || startSlotHoldMs === undefined || !resources || !timeouts) {
    throw new ConfigError(`${where}: ${problems.join('; ')}`);
  }
  const { apps, appSources, specFileApps, origins } = await loadApps(input.apps, baseDir, at, file && (relative(baseDir, file) || file), where, previous);
  const { maxResources: _written, ...policyInput } = input.policy;
  const policy = {
    ...policyInput,
    ...(maxResources ? { maxResources } : {}),
    // Resolved now, once: see mount-paths.ts for why a start must not resolve them again.
    bindMountRoots: input.policy.bindMountRoots.map((p) => resolveRoot(resolve(baseDir, p))),
    secretFiles: (input.policy.secretFiles ?? []).map((p) => resolve(baseDir, p)),
    // Resolved now, once, as bindMountRoots are: a root later swapped for a link must not widen what may be read.
    secretFileRoots: (input.policy.secretFiles ?? []).map((p) => resolveRoot(resolve(baseDir, p))),
    secretEnv: input.policy.secretEnv ?? [],
  };
  const limits = {
    inputBytes: input.limits.inputBytes,
    requestHeaders: input.limits.requestHeaders,
    concurrentStarts: input.limits.concurrentStarts,
    startSlotHoldMs,
    concurrentIdleStops: input.limits.concurrentIdleStops,
    ...(input.limits.connections === undefined ? {} : { connections: input.limits.connections }),
    ...(input.limits.connectionsPerClient === undefined ? {} : { connectionsPerClient: input.limits.connectionsPerClient }),
    ...(input.limits.runningApps === undefined ? {} : { runningApps: input.limits.runningApps }),
  };
  validateAppSet(apps, policy, limits, gatewayClaims({ admin, adminHosts: input.adminHosts, listen, tls }), undefined, origins);
  return {
    file,
    listen,
    admin,
    adminHosts: input.adminHosts,
    ...storage,
    docker: input.docker,
    runtime: input.runtime,
    swarm: { nodeAddresses: input.swarm.nodeAddresses, taskPollMs, ...(input.swarm.volumeNode ? { volumeNode: input.swarm.volumeNode } : {}) },
    appsNetwork: input.appsNetwork,
    ...(input.upstreamHost === undefined ? {} : { upstreamHost: input.upstreamHost }),
    ...(input.publishHost === undefined ? {} : { publishHost: input.publishHost }),
    defaults: { idleTimeoutMs, queueSize: input.defaults.queueSize, resources: maxResources ? builtInWithin(resources, maxResources) : resources },
    limits,
    timeouts,
    inputBaseUrl: input.inputBaseUrl?.replace(/\/+$/, ''),
    waitingPage: input.waitingPage,
    policy,
    trustedProxies: trustedProxies.filter((a): a is string => a !== undefined),
    ...(tls ? { tls } : {}),
    workers: workerCount(input.workers, availableParallelism()),
    drainTimeoutMs,
    resyncMs,
    ...(input.gatewayId === undefined ? {} : { gatewayId: input.gatewayId }),
    createAhead: input.createAhead,
    logLevel: input.logLevel,
    history: { maxRecords: input.history.maxRecords, maxAgeMs: historyMaxAgeMs, sensitiveParams: input.history.sensitiveParams, keepQueries: input.history.keepQueries },
    usage: { maxAgeMs: usageMaxAgeMs },
    apps,
    appSources,
    specFileApps,
  };
}

/** The `tls` block with paths resolved against the config's directory and durations in milliseconds. */
function tlsConfig(raw: NonNullable<ConfigFileInput['tls']>, baseDir: string): TlsConfig {
  let listen: HostPort;
  try {
    listen = parseHostPort(raw.listen);
  } catch (err) {
    throw new Error(`listen: ${(err as Error).message}`);
  }
  const certificates = raw.certificates.map((c) => ({ cert: resolve(baseDir, c.cert), key: resolve(baseDir, c.key) }));
  const out: TlsConfig = { listen, certificates, redirect: raw.redirect, ...(raw.redirectPort !== undefined ? { redirectPort: raw.redirectPort } : {}) };
  if (raw.acme) {
    const ms = (name: 'renewBefore' | 'checkEvery') => {
      try {
        // renewBefore is a window (30d), never a timer; checkEvery is a timer's.
        return name === 'renewBefore' ? positiveLongDuration(raw.acme![name]) : positiveDuration(raw.acme![name]);
      } catch (err) {
        throw new Error(`acme.${name}: ${(err as Error).message}`);
      }
    };
    out.acme = { email: raw.acme.email, directory: raw.acme.directory, renewBeforeMs: ms('renewBefore'), checkEveryMs: ms('checkEvery'), ...(raw.acme.caRoot ? { caRoot: resolve(baseDir, raw.acme.caRoot) } : {}) };
  }
  return out;
}

/** The store a setting names, and where the gateway's own files go beside it. */
function storeSetting(store: string, baseDir: string): { store: string; stateDir: string } {
  if (isPostgresUrl(store)) return { store, stateDir: resolve(baseDir, 'data') };
  const path = resolve(baseDir, store);
  return { store: path, stateDir: dirname(path) };
}

/** Each `timeouts` field in milliseconds; a bound of 0 would be no bound, so it is refused. */
function gatewayTimeouts(raw: ConfigFileInput['timeouts'], field: <T>(name: string, fn: () => T) => T | undefined): GatewayTimeouts | undefined {
  const ms = (name: keyof ConfigFileInput['timeouts']) =>
    field(`timeouts.${name}`, () => positiveDuration(raw[name]));
  const out = {
    clientHeaderMs: ms('clientHeader'),
    clientBodyIdleMs: ms('clientBodyIdle'),
    clientSendMs: ms('clientSend'),
    upstreamConnectMs: ms('upstreamConnect'),
    upstreamResponseMs: ms('upstreamResponse'),
    engineMs: ms('engine'),
  };
  return Object.values(out).every((v) => v !== undefined) ? (out as GatewayTimeouts) : undefined;
}

/** A duration where 0 would mean never (no bound, or a loop with no pause): refused. */
function positiveDuration(raw: string | number): number {
  const value = parseDuration(raw);
  if (value === 0) throw new Error('must be longer than 0');
  return value;
}

function positiveLongDuration(raw: string | number): number {
  const value = parseLongDuration(raw);
  if (value === 0) throw new Error('must be longer than 0');
  return value;
}

/** Docker refuses memory limits under 6 MiB, as the app spec says too. */
const MIN_MEMORY = 6 * 2 ** 20;

function defaultResources(raw: ConfigFileInput['defaults']['resources']): ResourcesSpec {
  const out: ResourcesSpec = {};
  if (raw?.memory !== undefined) {
    out.memoryBytes = parseSize(raw.memory);
    if (out.memoryBytes < MIN_MEMORY) throw new Error('must be at least 6m (Docker refuses less)');
  }
  if (raw?.cpus !== undefined) out.cpus = raw.cpus;
  if (raw?.pids !== undefined) out.pids = raw.pids;
  return out;
}

/** policy.maxResources with its memory in bytes. */
function resourceBounds(raw: NonNullable<ConfigFileInput['policy']['maxResources']>): ResourcesSpec {
  const out: ResourcesSpec = {};
  if (raw.memory !== undefined) {
    out.memoryBytes = parseSize(raw.memory);
    if (out.memoryBytes < MIN_MEMORY) throw new Error('must be at least 6m (Docker refuses less)');
  }
  if (raw.cpus !== undefined) out.cpus = raw.cpus;
  if (raw.pids !== undefined) out.pids = raw.pids;
  return out;
}

const RESOURCE_FIELDS = [['memoryBytes', 'memory'], ['cpus', 'cpus'], ['pids', 'pids']] as const;

/** `defaults.resources.x: ... is above policy.maxResources.x (...)` for each default past its bound. Pure. */
function defaultsAboveBounds(defaults: ResourcesSpec, max: ResourcesSpec): string[] {
  return RESOURCE_FIELDS.flatMap(([key, field]) => {
    const value = defaults[key];
    const bound = max[key];
    if (value === undefined || bound === undefined || value <= bound) return [];
    const text = key === 'memoryBytes' ? sizeText : String;
    return [`defaults.resources.${field}: ${text(value)} is above policy.maxResources.${field} (${text(bound)})`];
  });
}

/**
 * The defaults with a built-in limit (512m, 512 PIDs) that lies above the policy's
 * bound replaced by the bound, so a spec that sets nothing runs within the policy too.
 * There is no built-in CPU cap, and a bound does not add one: a cap slows every cold
 * start, and one above the engine host's CPU count fails every create. Pure.
 */
function builtInWithin(defaults: ResourcesSpec, max: ResourcesSpec): ResourcesSpec {
  const out: ResourcesSpec = { ...defaults };
  for (const [key] of RESOURCE_FIELDS) {
    const bound = max[key];
    const builtIn = BUILT_IN_RESOURCES[key];
    if (out[key] === undefined && bound !== undefined && builtIn !== undefined && builtIn > bound) out[key] = bound;
  }
  return out;
}

/** Gathers specs from inline entries, files and directories; every problem in every file is reported together. */
/**
 * A parse problem's path located in its file: `[1].routes[0].path` (the second
 * document) becomes `apps/web.yaml, document 2: routes[0].path`.
 */
export function inFile(file: string, path: string): string {
  const doc = /^\[(\d+)\](?:\.)?(.*)$/.exec(path);
  if (!doc) return `${file}: ${path}`;
  return `${file}, document ${Number(doc[1]) + 1}${doc[2] ? `: ${doc[2]}` : ''}`;
}

async function loadApps(entries: ConfigFileInput['apps'], baseDir: string, at: (path: readonly PathSegment[]) => string, configName?: string, where = 'config', previous?: GatewayConfig): Promise<{ apps: AppSpec[]; appSources: string[]; specFileApps: Record<string, string[]>; origins: string[] }> {
  const apps: AppSpec[] = [];
  const appSources: string[] = [];
  const specFileApps: Record<string, string[]> = {};
  /** Where each app was declared, for set-level problems: `apps/web.yaml, document 2` or `apps[0]`. */
  const origins: string[] = [];
  const problems: FieldProblem[] = [];
  // Problems keep the file they are in, so one refusal can span several files.
  const collect = async (fn: () => AppSpec[] | Promise<AppSpec[]>, file?: string, inline?: string): Promise<AppSpec[] | undefined> => {
    try {
      const found = await fn();
      const name = file ? relative(baseDir, file) || file : (inline ?? 'config');
      found.forEach((_, i) => origins.push(found.length > 1 ? `${name}, document ${i + 1}` : name));
      apps.push(...found);
      return found;
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      const name = file ? relative(baseDir, file) || file : undefined;
      // An inline app's problem is in the config file itself: its line is found there.
      // A name given twice names the other document by the file as it was read (`/srv/apps/web.yaml, document 1`): as the path names it.
      const named = (message: string) => (file && name ? message.replaceAll(`${file}, document `, `${name}, document `) : message);
      problems.push(...err.problems.map((p) => (name === undefined ? { path: configName === undefined ? p.path : inFile(configName, p.path), message: `${p.message}${at(pathSegments(p.path))}` } : { path: inFile(name, p.path), message: named(p.message) })));
      return undefined;
    }
  };
  for (const [index, entry] of entries.entries()) {
    if (typeof entry !== 'string') {
      await collect(() => [parseSpecObject(entry, `apps[${index}]`)], undefined, `apps[${index}]`);
      continue;
    }
    const path = resolve(baseDir, entry);
    appSources.push(path);
    // A missing source is named as every other config problem is: the config file, the field and its line.
    for (const file of await specFiles(path, `${where}: apps[${index}]`, at(['apps', index]))) {
      const bytes = await readSourceFile(file);
      if (typeof bytes === 'string') {
        problems.push({ path: relative(baseDir, file) || file, message: `cannot read: ${bytes}` });
        continue;
      }
      const decoded = specText(bytes);
      if (!decoded.ok) {
        problems.push({ path: relative(baseDir, file) || file, message: decoded.message });
        continue;
      }
      const text = decoded.text;
      // A large file is read off the event loop: a reload happens while the proxy serves.
      const found = await collect(() => parseSpecTextOffThread(text, file), file);
      if (!found) continue;
      specFileApps[file] = found.map((a) => a.name);
      const emptied = found.length === 0 && previous ? emptiedSpecProblem(previous.specFileApps[file]) : undefined;
      if (emptied) problems.push({ path: relative(baseDir, file) || file, message: emptied });
    }
  }
  if (problems.length > 0) throw new SpecError(problems);
  return { apps, appSources, specFileApps, origins };
}

/**
 * The most bytes a config or spec file may have. YAML costs many times its size in
 * memory once parsed, and a large file takes the parsing thread (one at a time) for as
 * long as it takes. Thousands of apps fit in far less.
 */
export const MAX_SOURCE_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A config or spec file's bytes, or why not (a few words). Only a regular file is read:
 * a FIFO among the specs (or the config named as one) blocked the start or every later
 * reload for good, and a link to /dev/zero read until memory ran out. O_NONBLOCK: the
 * open of a FIFO returns, to be refused. Links are followed (a Kubernetes ConfigMap is one).
 */
async function readSourceFile(path: string): Promise<Buffer | string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return fsReason(err);
  }
  try {
    const read = await readRegularBytes(handle, MAX_SOURCE_FILE_BYTES);
    if (Buffer.isBuffer(read)) return read;
    if (read.refused === 'not-regular') return read.directory ? 'it is a directory' : 'it is not a regular file (a FIFO, a socket or a device)';
    return `it is larger than ${MAX_SOURCE_FILE_BYTES / 2 ** 20} MiB`;
  } catch (err) {
    return fsReason(err);
  } finally {
    await handle.close();
  }
}

async function specFiles(path: string, where: string, line: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ConfigError(`${where}: ${path} does not exist${line}`);
  if (info.isFile()) return [path];
  const names = await readdir(path);
  return names.filter((n) => SPEC_EXTENSIONS.has(extname(n)) && !n.startsWith('.')).sort().map((n) => join(path, n));
}

/**
 * `host:port`, `[v6]:port` or a bare port (on 127.0.0.1). The port must be decimal
 * digits: Number() read "" (a port forgotten: "127.0.0.1:") as 0, a random port the
 * gateway then listened on unseen, and "0x1f90" or "8e3" as other ports than written.
 * `:0` written out stays allowed (tests ask for a free port so).
 */
export function parseHostPort(text: string): HostPort {
  const colon = text.lastIndexOf(':');
  const host = colon > 0 ? text.slice(0, colon).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const digits = colon >= 0 ? text.slice(colon + 1) : text;
  const port = Number(digits);
  if (!/^[0-9]{1,5}$/.test(digits) || port > 65535) throw new Error(`"${text}" is not host:port`);
  return { host, port };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '') || '(root)';
}
