/**
 * The berth/v1 app spec as users write it: the single source of truth for what a
 * document may contain. Validation, the TypeScript input type and the JSON Schema
 * shipped for editors all come from here. Objects are strict, so a misspelt field
 * is refused instead of silently ignored.
 */
import { z } from 'zod';
import { execStringsFit, execValid, hostNetworkPort, hostNetworkValid, mountsValid, routesValid, uniqueMountTargets, uniqueRoutes } from './cross-checks.js';
import { envValueField } from './env-value.js';
import * as f from './fields.js';
import { parseLongDuration } from './duration.js';
import { notJson } from './json-value.js';
import { parseSize } from './size.js';
import { controlCharProblem } from './text-rules.js';

/** More CPUs than any host has: a larger number only overflows the engine's nano-CPU count (1e300 was accepted). */
const MAX_CPUS = 1024;

export const routeSchema = z
  .strictObject({
    host: f.hostField
      .optional()
      .describe('Host the route answers for: "app.example.com", or "*.apps.example.com" where the first label is the app name, so this app gets "<name>.apps.example.com". Matched case-insensitively.'),
    path: f.pathPrefixField
      .optional()
      .describe('Path prefix, matched on whole segments ("/app/" matches "/app/x", not "/apple"). A trailing "/" is added when missing.'),
    stripPrefix: z
      .boolean()
      .default(false)
      .describe('Remove the path prefix before forwarding, so the app sees "/x" for "/app/x". Needs a path.'),
    redirectHttps: z
      .boolean()
      .optional()
      .describe("Answer this route's plain HTTP requests with 308 to HTTPS (true), or serve them (false). Default: the gateway's tls.redirect. Needs the gateway's tls block."),
  })
  .superRefine((route, ctx) => {
    if (route.host === undefined && route.path === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs a host, a path or both' });
    }
    if (route.stripPrefix && route.path === undefined) {
      ctx.addIssue({ code: 'custom', path: ['stripPrefix'], message: 'needs a path to strip' });
    }
  })
  .describe('Where requests for this app come from: a host, a path prefix, or both (then both must match).');

/**
 * Most instances of one app. Each is a container started, probed and watched at
 * once, with its own published port: with no bound, `scale.min: 100000` sent the
 * engine 100,000 calls at the same moment and grew the gateway past 2 GB.
 */
export const MAX_REPLICAS = 100;

export const scaleSchema = z
  .strictObject({
    min: z
      .number()
      .int()
      .min(0)
      .max(MAX_REPLICAS)
      .default(0)
      .describe('Instances kept running at all times. 0 (the default) scales to zero: started on the first request, stopped when idle.'),
    max: z
      .number()
      .int()
      .min(1)
      .max(MAX_REPLICAS)
      .optional()
      .describe('Most instances ever running (at most 100). Default: 1, or scale.min when that is larger.'),
    replicas: z
      .number()
      .int()
      .min(1)
      .max(MAX_REPLICAS)
      .optional()
      .describe('Instances running while the app is up. Default: scale.min, at least 1. Changed at run time by `berth scale`.'),
  })
  .superRefine((scale, ctx) => {
    if (scale.max !== undefined && scale.min > scale.max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `must not be more than scale.max (${scale.max})` });
    }
    if (scale.replicas !== undefined && scale.max !== undefined && scale.replicas > scale.max) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: `must not be more than scale.max (${scale.max})` });
    }
    if (scale.replicas !== undefined && scale.replicas < scale.min) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: `must not be less than scale.min (${scale.min})` });
    }
  })
  .describe('How many instances of the app run.');

export const mountSchema = z
  .strictObject({
    source: f.absolutePathField.describe("Host path to mount. Must lie under one of the gateway policy's bindMountRoots."),
    // The engine refuses it at create ("destination can't be '/'"), so the app could never start.
    target: f.absolutePathField.refine((p) => p !== '/', 'must not be "/"').describe('Absolute path inside the container.'),
    readOnly: z.boolean().default(false).describe('Mount read-only.'),
  })
  .describe('A bind mount of a host directory or file.');

/** Docker refuses CPU limits under 0.01 CPUs (10,000,000 nano-CPUs); say so before Docker does. */
export const MIN_CPUS = 0.01;

/** Docker refuses memory limits under 6 MiB; say so before Docker does. */
const MIN_MEMORY = 6 * 2 ** 20;

const resourcesSchema = z
  .strictObject({
    memory: f.sizeField
      .refine((v) => safeSize(v) >= MIN_MEMORY, 'must be at least 6m (Docker refuses less)')
      .optional()
      .describe('Memory limit: bytes, or "512k", "256m", "1g" (binary units, as with docker --memory).'),
    cpus: z
      .number()
      .min(MIN_CPUS, `must be at least ${MIN_CPUS} (Docker refuses less)`)
      .max(MAX_CPUS, `at most ${MAX_CPUS} CPUs`)
      .optional()
      .describe("CPU limit in (fractional) CPUs, e.g. 0.5; at least 0.01. Above the engine host's CPU count, all its CPUs."),
    pids: z.number().int().positive().optional().describe('Most processes the container may run.'),
  })
  .describe('Resource limits of each instance.');

function safeSize(value: string | number): number {
  try {
    return parseSize(value);
  } catch {
    return Infinity; // the size field reports the malformed value itself
  }
}

const labelNameField = z
  .string()
  .min(1)
  .regex(/^(?!berth\.)/, 'labels starting with "berth." are reserved for berth\'s own bookkeeping')
  .superRefine((name, ctx) => {
    const message = controlCharProblem(name, false);
    if (message) ctx.addIssue({ code: 'custom', message });
  });

export const berthAppSchema = z
  .strictObject({
    apiVersion: z.literal('berth/v1').describe('Always "berth/v1".'),
    name: f.nameField.describe('Unique name of the app: a DNS label (lowercase letters, digits, "-"; at most 63).'),
    image: f.imageField.describe('Docker image to run, e.g. "registry.example.com/team/app:1.2".'),
    port: f.portField
      .optional()
      .describe('The port the container listens on; the proxy dials it. Default: the one port the image EXPOSEs (read at apply; none or several: name it).'),
    routes: z
      .array(routeSchema)
      .min(1, 'must list at least one route; leave routes out for the default /session/<name>/')
      .optional()
      .describe('Routes to the app. Default: [{path: "/session/<name>/"}].'),
    env: z
      .record(f.envNameField, envValueField)
      .optional()
      .describe('Environment variables. Numbers and booleans are passed as text. A value may instead be a secret: {secret: "..."} (never shown by the API), {fromFile: "/path"} or {fromEnv: "NAME"} (read by the gateway at container create, if its policy allows).'),
    volume: f.absolutePathField
      .refine((p) => p !== '/', 'must not be "/"')
      .optional()
      .describe('Container path where the app\'s own persistent volume (berth-<name>-data) is mounted.'),
    command: z
      .array(z.string().refine((arg) => !arg.includes('\0'), 'must not contain NUL: no program can receive it in an argument'))
      .min(1)
      .optional().describe("Command to run instead of the image's default, as a list."),
    scale: scaleSchema.optional(),
    idleTimeout: f.durationField
      .optional()
      .describe('Stop the app after this long without requests, e.g. "90s", "5m", or seconds. Default: the gateway\'s defaults.idleTimeout.'),
    startTimeout: f.durationField
      .default('60s')
      .describe('How long a start may take until the app is ready before waiting requests fail.'),
    timeouts: z
      .strictObject({
        connect: f.durationField.optional().describe("How long connecting to the app may take before the request gets 504. Default: the gateway's timeouts.upstreamConnect."),
        response: f.durationField
          .optional()
          .describe("How long the app may take to answer a request's headers before it gets 504 (a streamed body may take longer). Default: the gateway's timeouts.upstreamResponse."),
      })
      .optional()
      .describe('Bounds on waiting for the app; each unset one is the gateway\'s.'),
    readiness: z
      .strictObject({
        path: f.probePathField
          .optional()
          .describe('HTTP path probed with GET; any status below 500 means ready. Without it, a TCP connect to the port.'),
      })
      .optional()
      .describe('How berth knows a started instance is ready for requests.'),
    resources: resourcesSchema.optional(),
    waiting: z
      .enum(['auto', 'hold', 'page'])
      .default('auto')
      .describe('While the app starts: "hold" requests until it is ready, "page" shows a please-wait page, "auto" shows the page to browsers and holds everything else.'),
    balance: z
      .enum(['least-connections', 'round-robin', 'random-two', 'cookie'])
      .default('least-connections')
      .describe('How requests are spread over instances: least-connections (default), round-robin, random-two (the less busy of two picked at random), or cookie (a client sticks to its instance while it lives).'),
    health: z
      .strictObject({
        path: f.probePathField.describe('HTTP path checked with GET; a 2xx or 3xx answer is healthy (a 404 is not).'),
        interval: f.durationField.default('10s').describe('Time between checks of each instance.'),
        timeout: f.durationField.default('2s').describe('How long one check may take.'),
        unhealthyThreshold: z.number().int().min(1).default(3).describe('Failed checks in a row (any success starts over) that take an instance out of rotation and restart it; one instance of the app at a time.'),
        healthyThreshold: z.number().int().min(1).default(1).describe('Passed checks in a row that bring a restarted instance back into rotation.'),
      })
      .optional()
      .describe('Active health checks of running instances. Connection failures also eject an instance (passively).'),
    strategy: z
      .strictObject({
        type: z.enum(['blue-green', 'rolling']).default('blue-green').describe('blue-green: start all new instances, switch, then stop the old; rolling: replace batchSize at a time.'),
        batchSize: z.number().int().min(1).default(1).describe('Instances replaced at a time by a rolling update.'),
      })
      .optional()
      .describe('How a changed spec replaces running instances without dropping requests.'),
    input: z
      .strictObject({
        data: z
          .unknown()
          .superRefine((data, ctx) => {
            const found = notJson(data);
            if (found) ctx.addIssue({ code: 'custom', path: found.path, message: found.message });
          })
          .describe('Any JSON value given to the app.'),
        as: z.enum(['env', 'file', 'url']).default('env').describe('env: in a variable; file: a read-only file; url: a URL the app fetches from berth with a per-app secret.'),
        env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('BERTH_INPUT').describe('Variable holding the JSON (env) or its URL (url).'),
        path: f.absolutePathField
          .refine((p) => !p.endsWith('/'), 'must name a file: not "/" and no trailing "/"')
          .default('/run/berth/input.json').describe('Where the file is mounted (file).'),
      })
      .optional()
      .describe("Input JSON for the app, as django_docker_engine passes it. Size-limited by the gateway's limits.inputBytes."),
    dependsOn: z
      .array(f.nameField)
      .optional()
      .describe('Apps to wake first, in order, each ready before the next (e.g. a database); they stay up while this app is up.'),
    idleAction: z
      .enum(['stop', 'pause'])
      .default('stop')
      .describe('What happens to an idle app: "stop" its container (the default; it is kept, with its filesystem and volume, so the next start is fast) or "pause" it (frozen in memory; wakes faster, but keeps its memory).'),
    removeAfter: f.durationField
      .optional()
      .describe('Remove the container after the app has been stopped this long (e.g. "24h"); its volume is kept. Default: never.'),
    queueSize: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Most requests that may wait for the app to start; more get 503 with Retry-After at once. Default: the gateway's defaults.queueSize."),
    waitingPage: z
      .strictObject({
        title: f.plainTextField(200).optional().describe('Title of the please-wait page.'),
        message: f.plainTextField(2000).optional().describe('Text shown on the please-wait page (plain text, one line).'),
      })
      .optional()
      .describe("Wording of the please-wait page browsers see while the app starts. Default: the gateway's waitingPage."),
    hsts: z
      .strictObject({
        maxAge: f.longDurationField.default('365d').describe('How long browsers keep to HTTPS for this host (max-age). Default 365d.'),
        includeSubDomains: z.boolean().default(false).describe('The rule covers every subdomain too.'),
        preload: z.boolean().default(false).describe('Ask to be in the browsers\' preload list; needs includeSubDomains and a maxAge of at least 365d.'),
      })
      .superRefine((h, ctx) => {
        if (h.preload && !h.includeSubDomains) ctx.addIssue({ code: 'custom', path: ['preload'], message: 'needs includeSubDomains: true (the preload list requires it)' });
        if (h.preload && maxAgeMs(h.maxAge) < 365 * 86_400_000) ctx.addIssue({ code: 'custom', path: ['maxAge'], message: 'must be at least 365d with preload (the preload list requires it)' });
      })
      .optional()
      .describe('Send Strict-Transport-Security on responses over HTTPS, so browsers use HTTPS only for this app\'s hosts. Default: not sent.'),
    network: f.networkField.optional().describe("Docker network to join as well; must be allowed by the gateway's policy.networks."),
    mounts: z.array(mountSchema).optional().describe("Bind mounts of host paths, allowed only under the policy's bindMountRoots."),
    security: z
      .strictObject({
        privileged: z.boolean().default(false).describe("Run privileged. Denied unless the gateway's policy.allowPrivileged."),
        capAdd: z
          .array(z.string().regex(/^[A-Z_]+$/, 'a capability name like NET_ADMIN'))
          .default([])
          .describe("Linux capabilities to add. Each must be in the gateway's policy.capabilities."),
        hostNetwork: z
          .boolean()
          .default(false)
          .describe("Use the host's network (the app's port is then dialled on 127.0.0.1 directly, so `port` must be given, and must be neither one of the gateway's listener ports nor another host-network app's). Denied unless policy.allowHostNetwork."),
        hostPid: z.boolean().default(false).describe("Share the host's PID namespace. Denied unless policy.allowHostPid."),
      })
      .optional()
      .describe('Powers over the host. All denied unless the gateway configuration allows them; containers always run with no-new-privileges.'),
    labels: z
      .record(labelNameField, f.textScalarField)
      .optional()
      .describe('Extra container labels. Names starting with "berth." are reserved.'),
  })
  .superRefine(uniqueRoutes, { when: routesValid })
  .superRefine(uniqueMountTargets, { when: mountsValid })
  .superRefine(hostNetworkPort, { when: hostNetworkValid })
  .superRefine(execStringsFit, { when: execValid })
  .describe('One berth app: a named, routable, container-backed web app.');

/** An HSTS maxAge in milliseconds; one that does not parse was already reported by its own field. */
function maxAgeMs(value: string | number): number {
  try {
    return parseLongDuration(value);
  } catch {
    return Infinity;
  }
}

/** A berth/v1 document as written (defaults not yet applied). */
export type BerthAppInput = z.input<typeof berthAppSchema>;
/** A validated berth/v1 document: defaults applied, durations and sizes not yet converted. */
export type BerthAppDocument = z.output<typeof berthAppSchema>;
