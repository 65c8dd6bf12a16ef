import type { RuntimeEvent } from '../runtime.js';
import { LABEL_APP } from '../runtime.js';
import type { DockerContext } from './context.js';
import { isManaged } from './names.js';

/** How many containers' answers (berth's or not) are remembered; their labels never change. */
const REMEMBERED = 1_000;

/**
 * The network events of berth's own containers only, each with its app. The
 * engine's network events carry no container labels, so the stream sees every
 * container on the host connect and disconnect; each container is looked up
 * once (an inspect, a read) and the events of others are dropped, as the
 * container stream's label filter drops theirs.
 */
export async function* managedNetworkEvents(ctx: DockerContext, events: AsyncIterable<RuntimeEvent>): AsyncGenerator<RuntimeEvent> {
  const apps = new Map<string, string | null>();
  for await (const event of events) {
    let app = apps.get(event.instanceId);
    if (app === undefined) {
      const labels = await ctx
        .docker()
        .getContainer(event.instanceId)
        .inspect()
        .then((info) => info.Config?.Labels ?? {})
        .catch(() => undefined);
      // Gone already (removed): its container events say so; nothing is remembered.
      if (labels === undefined) continue;
      app = isManaged(labels) ? (labels[LABEL_APP] ?? '') : null;
      if (apps.size >= REMEMBERED) apps.delete(apps.keys().next().value!);
      apps.set(event.instanceId, app);
    }
    if (app !== null) yield { ...event, app };
  }
}
