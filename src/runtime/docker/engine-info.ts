import type { DockerContext } from './context.js';

/** What berth reads from the engine's `docker info` when it creates containers. */
export interface EngineFacts {
  /** The default log driver (log-config.ts). */
  LoggingDriver?: string;
  /** CPUs of the engine's host: a container's CPU limit above it is refused (container-config.ts). */
  NCPU?: number;
}

/** The engine's facts, asked once per runtime (again after a failed ask, which answers none). */
const facts = new WeakMap<DockerContext, Promise<EngineFacts>>();

export function engineFacts(ctx: DockerContext): Promise<EngineFacts> {
  let known = facts.get(ctx);
  if (!known) {
    known = ctx.docker().info().then(
      (info: EngineFacts) => info,
      () => {
        facts.delete(ctx);
        return {};
      },
    );
    facts.set(ctx, known);
  }
  return known;
}
