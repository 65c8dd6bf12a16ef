/**
 * The normalized app spec: what every accepted input form (berth/v1, SWS v1,
 * cntSpawner /v1/) becomes after parsing and validation. Durations are already
 * milliseconds and sizes bytes; everything downstream reads only this shape.
 */
import type { EnvValue } from './env-value.js';

/** How a request waiting for a cold start is answered. */
export type WaitingMode = 'auto' | 'hold' | 'page';

/** How requests are spread over an app's instances. */
export type BalancePolicyName = 'least-connections' | 'round-robin' | 'random-two' | 'cookie';

/** Active health checks of running instances. */
export interface HealthSpec {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Failed checks in a row (any success starts over) that take an instance out of rotation (and restart it). */
  unhealthyThreshold: number;
  /** Passed checks in a row that bring a restarted instance back into rotation. */
  healthyThreshold: number;
}

/** How a changed spec replaces running instances. */
export interface StrategySpec {
  type: 'blue-green' | 'rolling';
  /** Instances replaced at a time by a rolling update. */
  batchSize: number;
}

/** JSON handed to the container (django_docker_engine's input). */
export interface InputSpec {
  /** The JSON text, canonical. */
  json: string;
  /** How the container gets it. */
  as: 'env' | 'file' | 'url';
  /** Variable holding the JSON (`env`) or the URL (`url`). */
  env: string;
  /** Where the file is mounted read-only (`file`). */
  path: string;
}

/** What an idle app becomes: stopped (container kept) or paused (frozen in memory). */
export type IdleAction = 'stop' | 'pause';

export interface WaitingPageText {
  title?: string;
  message?: string;
}

export interface RouteSpec {
  /** Exact host (`hello.example.com`) or wildcard (`*.apps.example.com`, first label = app name). */
  host?: string;
  /** Path prefix matched on whole segments, always starting and ending with `/`. */
  path?: string;
  /** Remove the matched path prefix before forwarding. */
  stripPrefix: boolean;
  /** Plain HTTP gets a 308 to HTTPS (true) or is served (false); undefined: the gateway's `tls.redirect`. */
  redirectHttps?: boolean;
}

/** Strict-Transport-Security as an app asks for it (sent over HTTPS only). */
export interface HstsSpec {
  maxAgeS: number;
  includeSubDomains: boolean;
  preload: boolean;
}

export interface ReadinessSpec {
  /** HTTP path probed with GET; a status below 500 means ready. Absent: TCP connect. */
  path?: string;
}

export interface ResourcesSpec {
  memoryBytes?: number;
  /** Fractional CPUs, e.g. 0.5. */
  cpus?: number;
  pids?: number;
}

/** A bind mount of a host path; only allowed under the policy's bindMountRoots. */
export interface MountSpec {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface AppSpec {
  name: string;
  image: string;
  /** The container's port the proxy dials; PORT_FROM_IMAGE until apply has read it from the image. */
  port: number;
  routes: RouteSpec[];
  /** Plain text, or a secret: a literal never shown, or a file / gateway variable read at container create. */
  env: Record<string, EnvValue>;
  /** Container path where the named volume `berth-<name>-data` is mounted. */
  volume?: string;
  /** Container command override. */
  command?: string[];
  /** min 0 scales to zero; `replicas` is how many run while the app is up (min ≤ replicas ≤ max). */
  scale: { min: number; max: number; replicas: number };
  balance: BalancePolicyName;
  health?: HealthSpec;
  strategy: StrategySpec;
  input?: InputSpec;
  /** Apps woken first, in order, each ready before the next; kept up while this one is. */
  dependsOn: string[];
  /** Undefined: the gateway's default applies. */
  idleTimeoutMs?: number;
  startTimeoutMs: number;
  /** Bounds on waiting for the app; an unset one is the gateway's timeouts.upstream*. Absent when none is set. */
  timeouts?: AppTimeouts;
  readiness: ReadinessSpec;
  resources: ResourcesSpec;
  waiting: WaitingMode;
  /** What an idle app becomes. */
  idleAction: IdleAction;
  /** Remove a stopped app's container after this long (volume kept). Undefined: never. */
  removeAfterMs?: number;
  /** Most requests waiting for a start. Undefined: the gateway's default. */
  queueSize?: number;
  /** Wording of the please-wait page; unset parts come from the gateway's default. */
  waitingPage?: WaitingPageText;
  /** Docker network to join besides the default bridge; must be allowed by policy. */
  network?: string;
  /** Strict-Transport-Security for this app's responses over HTTPS; undefined: none. */
  hsts?: HstsSpec;
  mounts: MountSpec[];
  security: SecuritySpec;
  /** Extra container labels (never `berth.*`, which berth owns). */
  labels: Record<string, string>;
}

/** What a gateway allows specs to ask of Docker; everything else is denied. */
export interface DockerPolicy {
  /** Image patterns (`*` wildcard). Empty: only images already present locally. */
  images: string[];
  networks: string[];
  bindMountRoots: string[];
  allowPrivileged: boolean;
  /** Linux capabilities specs may add (e.g. NET_ADMIN). */
  capabilities: string[];
  allowHostNetwork: boolean;
  allowHostPid: boolean;
  /** Roots under which `env.X.fromFile` may name files (realpath'd at every container create). Absent: none. */
  secretFiles?: string[];
  /**
   * secretFiles with symbolic links resolved once, when the config was loaded; a file's
   * real path must lie under one of these. Resolving the roots again at each read would
   * follow a root swapped for a link to `/` (see mount-paths.ts). Absent (a runtime used
   * on its own): resolved at each read.
   */
  secretFileRoots?: string[];
  /** Gateway variable name patterns (`*` wildcard) `env.X.fromEnv` may name; `BERTH_*` never. Absent: none. */
  secretEnv?: string[];
  /**
   * Container label names (`*` wildcard) specs may set. Absent: any but those of tools
   * that act on containers (CONTROL_LABELS in label-policy.ts). `berth.*` never.
   */
  labels?: string[];
  /** The most a spec's `resources` may ask for, field by field. Absent (or a field absent): no bound. */
  maxResources?: ResourcesSpec;
}

/** Powers over the host a spec may ask for; each is denied unless the gateway's policy allows it. */
export interface SecuritySpec {
  privileged: boolean;
  capAdd: string[];
  hostNetwork: boolean;
  hostPid: boolean;
}

/** An app's own bounds on the proxy's waits for it, in milliseconds. */
export interface AppTimeouts {
  /** Connecting to an instance. */
  connectMs?: number;
  /** The response headers of a request. */
  responseMs?: number;
}

/**
 * `port` of a spec that named none: apply (or a config load) replaces it by the one
 * port the image EXPOSEs before the spec is stored (see gateway/image-ports.ts),
 * so a stored or running spec never carries it.
 */
export const PORT_FROM_IMAGE = 0;
