import { z } from 'zod';
import { plainTextField } from '../spec/fields.js';
import { DEFAULT_CONCURRENT_STARTS } from '../activator/start-budget.js';
import { DEFAULT_START_SLOT_HOLD } from '../activator/start-slot-hold.js';
import { DEFAULT_CONCURRENT_IDLE_STOPS } from '../activator/idle-stop-slots.js';
import { GATEWAY_ID_PATTERN, GATEWAY_ID_RULE } from '../cluster/gateways/gateway-id.js';

/** The defaults of the `timeouts` block, as written. */
export const TIMEOUT_DEFAULTS = {
  clientHeader: '60s',
  clientBodyIdle: '60s',
  clientSend: '60s',
  upstreamConnect: '10s',
  upstreamResponse: '60s',
  engine: '30s',
} as const;

function duration(description: string, fallback: string) {
  return z.union([z.string(), z.number()]).describe(`${description} Default ${fallback}.`).default(fallback);
}

/** Most proxy workers a gateway may run: past a few dozen the one control process is the limit (see the README). */
export const MAX_WORKERS = 64;
const WORKERS_RULE = `must be auto or a whole number from 1 to ${MAX_WORKERS}`;

/** `workers` as a count: `auto` is one per core, but no more than MAX_WORKERS on a machine with more cores. Pure. */
export function workerCount(workers: number | 'auto', cores: number): number {
  return workers === 'auto' ? Math.max(1, Math.min(cores, MAX_WORKERS)) : workers;
}

/** The config file's input shape; the source of truth for its validation. */
export const configFileSchema = z.strictObject({
  listen: z.string().describe('Proxy listener, host:port. Default 127.0.0.1:8080.').default('127.0.0.1:8080'),
  admin: z.string().describe('Admin API and dashboard listener, host:port. Default 127.0.0.1:8081.').default('127.0.0.1:8081'),
  adminHosts: z
    .array(z.string().regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?|\[?[0-9A-Fa-f:.]+\]?)$/, 'must be a host name or address, without scheme, port or path'))
    .describe('Host names the admin listener answers to besides loopback names and its bind address (DNS-rebinding guard). Needed when admin binds to 0.0.0.0 or ::.')
    .default([]),
  store: z
    .string()
    .describe('Where the state is kept: a SQLite file, relative to this config file (default ./data/berth.db), or a PostgreSQL URL, postgres://user:password@host:5432/db. BERTH_STORE, when set, wins over it.')
    .default('./data/berth.db'),
  docker: z.string().describe('Docker endpoint: unix:///var/run/docker.sock or tcp://host:port. Default: DOCKER_HOST, else the local socket.').optional(),
  runtime: z
    .enum(['docker', 'swarm'])
    .describe('What runs the apps: docker (containers on the one engine named by docker) or swarm (services on the swarm manager named by docker). Default docker.')
    .default('docker'),
  swarm: z
    .strictObject({
      nodeAddresses: z
        .record(z.string(), z.string().regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?)$/, 'must be a host name or address, without scheme, port or path'))
        .describe("Where berth dials each node's published ports, by node hostname or id. A node not named here is dialled at its berth.address node label, else at the address it joined the swarm with.")
        .default({}),
      volumeNode: z.string().optional().describe('Hostname or id of the node that apps with a volume are pinned to. Default: the manager berth talks to.'),
      taskPoll: duration('How often the tasks are listed to notice ones that started, died or moved (the Swarm sends no task events).', '1s'),
    })
    .describe('Settings of runtime: swarm.')
    .default({ nodeAddresses: {}, taskPoll: '1s' }),
  upstreamHost: z
    .string()
    .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?)$/, 'must be a host name or address, without scheme, port or path')
    .describe("Host berth dials apps' published ports at. Default: 127.0.0.1 for a local engine, the engine's host for a remote tcp:// one (or publishHost when it is a specific address).")
    .optional(),
  appsNetwork: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a Docker network name')
    .describe('User-defined bridge network berth creates (labelled berth.managed=true) and joins every app to, aliased by its app name, so apps reach each other by name. Default berth-apps; none: no such network (apps stay on the default bridge, and each cold start skips its ~0.2 s of network setup).')
    .default('berth-apps'),
  publishHost: z
    .string()
    .regex(/^(?:[0-9.]+|\[?[0-9A-Fa-f:.]+\]?)$/, 'must be an IP address')
    .describe("Address on the engine's host that app ports are published on. Default: 127.0.0.1 for a local engine, 0.0.0.0 for a remote tcp:// one (see the README on what that exposes).")
    .optional(),
  defaults: z
    .strictObject({
      idleTimeout: z.union([z.string(), z.number()]).describe('Idle time after which an app is stopped, e.g. 5m.').default('5m'),
      queueSize: z.number().int().min(1).describe('Most requests that may wait for one app to start.').default(1000),
      resources: z
        .strictObject({
          memory: z.union([z.string(), z.number()]).optional().describe('Memory limit of each instance: bytes, or "512k", "256m", "1g".'),
          cpus: z.number().min(0.01, 'must be at least 0.01 (Docker refuses less)').optional().describe('CPU limit of each instance in (fractional) CPUs, e.g. 0.5; at least 0.01.'),
          pids: z.number().int().positive().optional().describe('Most processes each instance may run.'),
        })
        .optional()
        .describe("Resource limits for apps that do not set them; an app's own resources win field by field."),
    })
    .default({ idleTimeout: '5m', queueSize: 1000 }),
  waitingPage: z
    .strictObject({
      title: plainTextField(200).optional(),
      message: plainTextField(2000).optional(),
      html: z
        .string()
        .max(100_000)
        .optional()
        .describe("The operator's own HTML for the page's body, shown under the title in place of the default message (like django_docker_engine's please_wait_body_html). Trusted as it is: only the gateway's configuration may set it; specs stay text-only. The page still polls and reloads itself."),
    })
    .describe('Default wording of the please-wait page; apps may override title and message.')
    .default({}),
  policy: z
    .strictObject({
      images: z.array(z.string()).describe('Image patterns specs may use (* wildcard). Empty: any image already present locally.').default([]),
      networks: z.array(z.string()).describe('Docker networks apps may join.').default([]),
      bindMountRoots: z.array(z.string()).describe('Host paths under which bind mounts are allowed.').default([]),
      allowPrivileged: z.boolean().describe('Let specs run privileged containers.').default(false),
      capabilities: z.array(z.string()).describe('Linux capabilities specs may add.').default([]),
      allowHostNetwork: z.boolean().describe("Let specs use the host's network.").default(false),
      allowHostPid: z.boolean().describe("Let specs share the host's PID namespace.").default(false),
      secretFiles: z.array(z.string()).optional().describe('Host paths under which env.X.fromFile may read files (symbolic links resolved). Default: none.'),
      labels: z
        .array(z.string())
        .optional()
        .describe('Container label names (* wildcard) specs may set. Default: any but those of tools that act on containers (traefik.*, com.docker.*, …); berth.* never.'),
      secretEnv: z.array(z.string()).optional().describe("Names (* wildcard) of the gateway's variables env.X.fromEnv may read; BERTH_* never; PG* and DOCKER_* (the store's and the engine's connection) only by their exact name. Default: none."),
      maxResources: z
        .strictObject({
          memory: z.union([z.string(), z.number()]).optional().describe('Largest memory limit a spec may ask for each instance: bytes, or "512k", "256m", "1g".'),
          cpus: z.number().positive().optional().describe('Most CPUs a spec may ask for each instance.'),
          pids: z.number().int().positive().optional().describe('Most processes a spec may let each instance run.'),
        })
        .optional()
        .describe("Bounds on a spec's resources; a spec asking more is refused (403). defaults.resources must lie within them. Default: no bound."),
    })
    .default({ images: [], networks: [], bindMountRoots: [], allowPrivileged: false, capabilities: [], allowHostNetwork: false, allowHostPid: false }),
  history: z
    .strictObject({
      maxRecords: z
        .number()
        .int()
        .min(0)
        .describe(
          'Most request records kept, of all apps together. Past it the apps with the most records lose their oldest first: each app keeps its newest records down to a level all share, so one flooded app cannot push the others\' history out. Default 100000.',
        )
        .default(100_000),
      maxAge: z.union([z.string(), z.number()]).describe('Records older than this are dropped. Default 7d.').default('7d'),
      sensitiveParams: z
        .array(z.string().min(1).max(200))
        .max(200)
        .describe('Query parameter names (case-insensitive, decoded) whose values the history keeps as REDACTED, added to the built-in list (access_token, token, api_key, password, X-Amz-Signature…). Default: [].')
        .default([]),
      keepQueries: z.boolean().describe('Keep every query string in the history whole, sensitive values included. Default false.').default(false),
    })
    .default({ maxRecords: 100_000, maxAge: '7d', sensitiveParams: [], keepQueries: false }),
  usage: z
    .strictObject({
      maxAge: z
        .union([z.string(), z.number()])
        .describe('Usage rows (one per app and UTC day) of days older than this are dropped, checked hourly. Default 400d.')
        .default('400d'),
    })
    .default({ maxAge: '400d' }),
  limits: z
    .strictObject({
      inputBytes: z.number().int().min(0).describe("Most bytes of an app's input JSON. Default 65536.").default(65_536),
      requestHeaders: z.number().int().min(1).max(10_000).describe('Most header fields a proxied request may have; more gets 431. Default 100.').default(100),
      connections: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('Most client connections open on the proxy listener; past it new ones get 503 and are closed. Default: min(10000, (open-file limit - a reserve of up to 1000) / 2), halved when tls is on (the TLS listener has a cap of its own). One more than the open-file limit holds is warned of at start.'),
      connectionsPerClient: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe("Most connections one client address may hold open on the proxy listener (the trustedProxies exempt: each carries many clients); past it new ones get 429 and are closed. Default: no bound of its own, only the listener's cap."),
      concurrentStarts: z
        .number()
        .int()
        .min(1)
        .describe('Most app starts under way at once; more wait for one to end, in arrival order, within their start timeout. Default 32.')
        .default(DEFAULT_CONCURRENT_STARTS),
      startSlotHold: duration(
        "How long a start keeps its concurrentStarts slot while it waits for its app's readiness (the engine's create and start calls always hold it); past it the slot goes to the next start and this one waits on outside the slots, within its own start timeout.",
        DEFAULT_START_SLOT_HOLD,
      ),
      concurrentIdleStops: z
        .number()
        .int()
        .min(1)
        .describe('Most idle stops (or pauses) under way at once; more wait for one to end, in arrival order, the app serving meanwhile (a request calls its stop off). Default 32.')
        .default(DEFAULT_CONCURRENT_IDLE_STOPS),
      runningApps: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('Most apps up at once (starting, running, paused or stopping); a request for another gets 503 with Retry-After until one idles out. Default: no bound.'),
    })
    .default({ inputBytes: 65_536, requestHeaders: 100, concurrentStarts: DEFAULT_CONCURRENT_STARTS, startSlotHold: DEFAULT_START_SLOT_HOLD, concurrentIdleStops: DEFAULT_CONCURRENT_IDLE_STOPS }),
  timeouts: z
    .strictObject({
      clientHeader: duration('How long a client may take to send its request headers.', '60s'),
      clientBodyIdle: duration('How long a request body may go without a byte before the client gets 408.', '60s'),
      clientSend: duration('How long a client may leave a response unread before its connection is closed.', '60s'),
      upstreamConnect: duration('How long connecting to an app may take (504 past it); an app may set its own.', '10s'),
      upstreamResponse: duration("How long an app may take to answer a request's headers (504 past it); an app may set its own.", '60s'),
      engine: duration('How long one Docker Engine API call may take (503 with Retry-After past it); a stop gets its grace period on top.', '30s'),
    })
    .describe('Bounds on every wait, in the spirit of nginx. Durations like "60s" or seconds.')
    .default(TIMEOUT_DEFAULTS),
  inputBaseUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional()
    .describe(
      'Base URL containers fetch input (input.as: url) from: the proxy listener as a container reaches it. ' +
        'Default http://host.docker.internal:<proxy port>, which works only if the proxy listens on an address containers can reach (not 127.0.0.1).',
    ),
  tls: z
    .strictObject({
      listen: z.string().describe('The HTTPS listener, host:port (HTTP/2 and HTTP/1.1). Default 127.0.0.1:8443.').default('127.0.0.1:8443'),
      certificates: z
        .array(
          z.strictObject({
            cert: z.string().min(1).describe('PEM file of the certificate chain, relative to this config file.'),
            key: z.string().min(1).describe('PEM file of its private key.'),
          }),
        )
        .describe('Certificates from files, chosen by SNI among the names they hold (wildcards too); reloaded when the files change. They win over ACME ones for the same name.')
        .default([]),
      acme: z
        .strictObject({
          email: z.email().describe('Contact address of the ACME account.'),
          directory: z.url({ protocol: /^https?$/, error: 'must be an https:// URL' }).describe("The CA's ACME directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory."),
          caRoot: z.string().optional().describe("PEM file of a CA to trust for the ACME server itself (a test CA such as pebble); default: Node's built-in roots."),
          renewBefore: duration('How long before expiry a certificate is renewed.', '30d'),
          checkEvery: duration('How often certificates are checked for renewal and failed orders retried when due.', '1h'),
        })
        .optional()
        .describe('Obtain and renew certificates for every exact route host (HTTP-01 on the plain listener). Wildcard hosts need DNS-01: give them files.'),
      redirect: z.boolean().describe("Answer plain HTTP with 308 to the same URL over HTTPS, for every route (a route's redirectHttps wins). Default false.").default(false),
      redirectPort: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .optional()
        .describe("The port redirects to HTTPS name, when clients reach the TLS listener on another one (a NAT, or a published port mapping 443 to it); left out of the URL when 443. Default: the TLS listener's own port."),
    })
    .optional()
    .describe('HTTPS at the edge: TLS termination, certificates from files and ACME, HTTP/2.'),
  trustedProxies: z.array(z.string()).describe('Peer addresses or CIDR ranges (10.0.0.0/8) whose X-Forwarded-* headers are trusted.').default([]),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional()
    .describe('Log level of the JSON log lines on stdout. Default info; BERTH_LOG_LEVEL overrides it.'),
  createAhead: z
    .number()
    .int()
    .min(0)
    .describe('How many stopped apps that never ran get their container created ahead (at apply or start), so their first start skips the create; the others get one at their first request. Default 100.')
    .default(100),
  workers: z
    .union([z.literal('auto'), z.number()], { error: WORKERS_RULE })
    .refine((v) => v === 'auto' || (Number.isInteger(v) && v >= 1 && v <= MAX_WORKERS), { error: WORKERS_RULE })
    .describe('Proxy worker processes sharing the listener: N, or auto (one per core). Default 1: one process, no IPC. With more, one control process keeps the activator, the admin API and the store.')
    .default(1),
  drainTimeout: z.union([z.string(), z.number()]).describe('How long shutdown waits for requests in flight. Default 30s.').default('30s'),
  gatewayId: z
    .string()
    .regex(GATEWAY_ID_PATTERN, { error: `gatewayId: ${GATEWAY_ID_RULE}` })
    .optional()
    .describe('This gateway\'s name among several on one PostgreSQL store (GET /v1/gateways, history). Default: BERTH_GATEWAY_ID, else the host name and the proxy port.'),
  resync: duration("How often berth lists its containers and corrects each app's state where the engine's events were lost (say, across an engine restart); read at start.", '10s'),
  apps: z
    .array(z.union([z.string(), z.record(z.string(), z.unknown())]))
    .describe('Spec files, directories of spec files, or inline app specs.')
    .default([]),
});

export type ConfigFileInput = z.infer<typeof configFileSchema>;
