import type { AppSpec, DockerPolicy, ResourcesSpec, WaitingPageText } from '../spec/types.js';

/** The gateway's configuration, as `berth serve --config berth.yaml` reads it. */
export interface GatewayConfig {
  /** Where the config file was read from (absent for a built-in default). */
  file?: string;
  /** The proxy listener. */
  listen: HostPort;
  /** The admin API and dashboard listener; loopback by default. */
  admin: HostPort;
  /** Host names the admin listener answers to besides loopback names and its bind address. */
  adminHosts: string[];
  /** SQLite file path (relative paths are resolved against the config file), or a postgres:// URL. */
  store: string;
  /**
   * Where the gateway keeps its own files (the first admin token): beside a SQLite
   * file, or ./data beside the config file for a PostgreSQL store.
   */
  stateDir: string;
  /** Docker endpoint: `unix:///var/run/docker.sock` or `tcp://host:2375`; undefined: DOCKER_HOST or the local socket. */
  docker?: string;
  /** What runs the apps: containers on one engine, or services on a swarm manager (both at `docker`). */
  runtime: 'docker' | 'swarm';
  /** Settings of the swarm runtime (see runtime/swarm/context.ts). */
  swarm: { nodeAddresses: Record<string, string>; volumeNode?: string; taskPollMs: number };
  /** Where apps' published ports are dialled; undefined: derived from the engine address (runtime/docker/addresses.ts). */
  upstreamHost?: string;
  /** The network every app joins, aliased by its name (default berth-apps). */
  appsNetwork: string;
  /** Address on the engine's host app ports are published on; undefined: derived from the engine address. */
  publishHost?: string;
  defaults: {
    idleTimeoutMs: number;
    /** Most requests waiting for one app's start. */
    queueSize: number;
    /** Limits for apps that set none; an app's own resources win field by field. */
    resources: ResourcesSpec;
  };
  limits: {
    /** Most bytes of an app's input JSON. */
    inputBytes: number;
    /** Most header fields a proxied request may have; more is refused with 431, never truncated. */
    requestHeaders: number;
    /** Most client connections on the proxy listener; undefined: derived from the open-file limit at start. */
    connections?: number;
    /** Most connections one client address holds on the proxy listener (trusted proxies exempt); undefined: no bound of its own. */
    connectionsPerClient?: number;
    /** Most app starts under way at once (activator/start-budget.ts). */
    concurrentStarts: number;
    /** How long a start holds its slot while it waits for readiness (activator/start-slot-hold.ts). */
    startSlotHoldMs: number;
    /** Most idle stops (or pauses) under way at once (activator/idle-stop-slots.ts). */
    concurrentIdleStops: number;
    /** Most apps up at once; undefined: no bound. */
    runningApps?: number;
  };
  /** Bounds on every wait (the `timeouts` block), parsed once. */
  timeouts: GatewayTimeouts;
  /**
   * Where containers fetch input delivered `as: url` (no trailing slash). Undefined:
   * `http://host.docker.internal:<proxy port>`. Either way a container reaches it only
   * if the proxy listens on an address it can reach (the docker bridge, or 0.0.0.0);
   * berth's default listener, 127.0.0.1, is not.
   */
  inputBaseUrl?: string;
  /** `html` is the operator's trusted body HTML; specs can set only the text fields. */
  waitingPage: WaitingPageText & { html?: string };
  policy: DockerPolicy;
  /** HTTPS at the edge (the `tls` block); undefined: plain HTTP only. */
  tls?: TlsConfig;
  /** Peers whose X-Forwarded-* headers berth extends instead of replacing. */
  trustedProxies: string[];
  /** How much request history is kept. */
  history: {
    maxRecords: number;
    maxAgeMs: number;
    /** Query parameter names whose values the history replaces, beside the built-in ones (src/store/query-redaction.ts). */
    sensitiveParams: string[];
    /** Keep query strings whole in the history. */
    keepQueries: boolean;
  };
  /** How long usage-accounting rows are kept. */
  usage: { maxAgeMs: number };
  /** How many never-started apps get their container created ahead (see the README's "Many apps"). */
  createAhead: number;
  /** Proxy worker processes (`workers`, `auto` resolved to the core count); 1 runs the proxy in the gateway's own process. */
  workers: number;
  /** How long SIGTERM waits for requests in flight. */
  drainTimeoutMs: number;
  /** How often the activator checks each app's belief against the engine's container list (`resync`). */
  resyncMs: number;
  /** This gateway's name among several on one PostgreSQL store (`gatewayId`); see gateway-id.ts for the default. */
  gatewayId?: string;
  /** The log level the config file asks for (BERTH_LOG_LEVEL wins over it). */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Every app the config declares, from inline specs and spec files. */
  apps: AppSpec[];
  /** Spec files and directories named by the config, watched for changes. */
  appSources: string[];
  /** The names of the apps each spec file declared, by its absolute path: a reload refuses a file emptied under them. */
  specFileApps: Record<string, string[]>;
}

export interface HostPort {
  host: string;
  port: number;
}

/** The `timeouts` block in milliseconds. */
export interface GatewayTimeouts {
  /** A client's request headers must arrive within this (server.headersTimeout). */
  clientHeaderMs: number;
  /** A request body going this long without a byte gets 408 and its connection closed. */
  clientBodyIdleMs: number;
  /** A client leaving a response unread this long has its connection closed. */
  clientSendMs: number;
  /** Connecting to an app (per-app `timeouts.connect` overrides it). */
  upstreamConnectMs: number;
  /** An app's response headers (per-app `timeouts.response` overrides it). */
  upstreamResponseMs: number;
  /** One Docker Engine API call. */
  engineMs: number;
}

/** The `tls` block, paths resolved and durations parsed. */
export interface TlsConfig {
  listen: HostPort;
  /** Absolute paths of each PEM chain and key. */
  certificates: Array<{ cert: string; key: string }>;
  acme?: AcmeConfig;
  /** Plain HTTP gets a 308 to HTTPS on every route whose own `redirectHttps` does not say otherwise. */
  redirect: boolean;
  /** The port redirects name, when clients reach the TLS listener on another; undefined: the listener's own. */
  redirectPort?: number;
}

export interface AcmeConfig {
  email: string;
  directory: string;
  /** Absolute path of a PEM CA the ACME server's own certificate is checked against (test CAs). */
  caRoot?: string;
  renewBeforeMs: number;
  checkEveryMs: number;
}
