import type Docker from 'dockerode';
import type { LaunchAllowance } from '../launch-allowance.js';
import type { SecretPolicy } from '../../spec/secret-policy.js';
import type { ResourcesSpec } from '../../spec/types.js';
import type { HostAddresses } from './addresses.js';
import type { DockerEndpoint } from './client.js';

/** What every Docker operation needs; built once by DockerRuntime and passed down. */
export interface DockerContext {
  readonly endpoint: DockerEndpoint;
  /** Where ports are published and dialled (addresses.ts). */
  readonly addresses: HostAddresses;
  /** The network every app joins, aliased by its name (apps-network.ts); undefined: none. */
  readonly appsNetwork?: string;
  /** The dockerode client, created on first use so constructors stay free of I/O. */
  docker(): Docker;
  /** Added to every container and volume berth creates. */
  readonly extraLabels: Record<string, string>;
  /** Pull images missing on the host; off by default (berth never pulls). */
  readonly allowPull: boolean;
  /** The gateway's current defaults.resources, applied at create to limits a spec leaves unset. */
  readonly defaultResources?: () => ResourcesSpec | undefined;
  /**
   * The policy's bindMountRoots, resolved when the config was loaded; bind-mount
   * sources are checked against them at every create and start. Undefined: no
   * policy is known (the runtime used on its own) and mounts are not checked.
   */
  readonly bindMountRoots?: () => readonly string[];
  /**
   * The powers the policy lets a container have (launch-powers.ts), checked at every start of a
   * container whatever made it (the quick wake of Runtime.unpause thaws only what berth itself
   * paused after starting it). Undefined: no policy is known (the runtime on its own).
   */
  readonly launchPolicy?: () => LaunchAllowance;
  /** The signed URL an app with `input.as: url` fetches its input from; see RuntimeHooks. */
  readonly inputUrl?: (app: string, json: string) => string;
  /** The policy's secretFiles and secretEnv in force now; absent: every secret reference is denied. */
  readonly secretPolicy?: () => SecretPolicy;
  /** Where `env.X.fromEnv` is read from; default process.env. */
  readonly processEnv?: NodeJS.ProcessEnv;
}
