import type Docker from 'dockerode';
import type { DockerEndpoint } from './client.js';

/** What every Docker operation needs; built once by DockerRuntime and passed down. */
export interface DockerContext {
  readonly endpoint: DockerEndpoint;
  /** The dockerode client, created on first use so constructors stay free of I/O. */
  docker(): Docker;
  /** Added to every container and volume berth creates. */
  readonly extraLabels: Record<string, string>;
  /** Pull images missing on the host; off by default (berth never pulls). */
  readonly allowPull: boolean;
}
