import type Docker from 'dockerode';
import type { DockerContext } from './context.js';
import { engineFacts } from './engine-info.js';

type LogConfig = NonNullable<Docker.HostConfig['LogConfig']>;

/**
 * What berth keeps of one container's output with json-file: what Docker's own
 * `local` driver keeps by default (5 files of 20 MB). berth's logs API reads the
 * last lines, so older ones are of no use to it.
 */
export const JSON_FILE_BOUNDS: Readonly<Record<string, string>> = Object.freeze({ 'max-size': '20m', 'max-file': '5' });

/**
 * The log config a container is created with, given the engine's default driver.
 * json-file, Docker's default, keeps every line an app writes on the host's disk
 * for as long as the container exists, so one app that writes without end fills
 * the disk the store lives on; it gets bounds. Any other driver is the operator's
 * choice, with its own bounds (local rotates; journald, syslog… ship the lines
 * away): undefined, the engine's default applies. Pure.
 */
export function boundedLogConfig(defaultDriver: string | undefined): LogConfig | undefined {
  return defaultDriver === 'json-file' ? { Type: 'json-file', Config: { ...JSON_FILE_BOUNDS } } : undefined;
}

/** boundedLogConfig for the engine behind `ctx`; undefined when the engine cannot say (the create then fails on its own). */
export async function engineLogConfig(ctx: DockerContext): Promise<LogConfig | undefined> {
  return boundedLogConfig((await engineFacts(ctx)).LoggingDriver);
}
