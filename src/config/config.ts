import type { AppSpec, DockerPolicy, WaitingPageText } from '../spec/types.js';

/** The gateway's configuration, as `berth serve --config berth.yaml` reads it. */
export interface GatewayConfig {
  /** Where the config file was read from (absent for a built-in default). */
  file?: string;
  /** The proxy listener. */
  listen: HostPort;
  /** The admin API and dashboard listener; loopback by default. */
  admin: HostPort;
  /** SQLite file path (relative paths are resolved against the config file). */
  store: string;
  /** Docker endpoint: `unix:///var/run/docker.sock` or `tcp://host:2375`; undefined: DOCKER_HOST or the local socket. */
  docker?: string;
  defaults: {
    idleTimeoutMs: number;
    /** Most requests waiting for one app's start. */
    queueSize: number;
  };
  waitingPage: WaitingPageText;
  policy: DockerPolicy;
  /** Peers whose X-Forwarded-* headers berth extends instead of replacing. */
  trustedProxies: string[];
  /** How much request history is kept. */
  history: { maxRecords: number; maxAgeMs: number };
  /** How long SIGTERM waits for requests in flight. */
  drainTimeoutMs: number;
  /** Every app the config declares, from inline specs and spec files. */
  apps: AppSpec[];
  /** Spec files and directories named by the config, watched for changes. */
  appSources: string[];
}

export interface HostPort {
  host: string;
  port: number;
}
