// Server-sent events over fetch(). EventSource cannot send an Authorization header, and
// a token in the URL would end up in logs, so the stream is read like any other
// response and parsed here (the text/event-stream format of the HTML standard).

import { ApiError, openStream, readLines } from './api.js';

/** Parses SSE lines into {type, data, id} events; pure, so it is easy to reason about. */
export async function parseEvents(lines, onEvent) {
  let type = '';
  let data = [];
  let id;
  for await (const line of lines) {
    if (line === '') {
      if (data.length) onEvent({ type: type || 'message', data: data.join('\n'), id });
      type = '';
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue; // a comment: the server's keepalive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
}

/**
 * Follows an event stream for as long as it is not closed: when the connection drops it
 * reconnects with a growing delay (1 s up to 15 s). `onStatus` hears 'connecting',
 * 'live' and 'retrying'; a refused token stops it for good ('unauthorized').
 */
export function followEvents(path, { onEvent, onStatus = () => undefined, onOpen = () => undefined }) {
  const controller = new AbortController();
  const { signal } = controller;
  (async () => {
    let delayMs = 1000;
    while (!signal.aborted) {
      onStatus('connecting');
      try {
        const res = await openStream(path, { signal, accept: 'text/event-stream' });
        onStatus('live');
        onOpen();
        delayMs = 1000;
        await parseEvents(readLines(res.body, signal), (event) => {
          let payload;
          try {
            payload = JSON.parse(event.data);
          } catch {
            return;
          }
          onEvent(event.type, payload);
        });
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          onStatus('unauthorized');
          return;
        }
      }
      if (signal.aborted) break;
      onStatus('retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 15_000);
    }
    onStatus('off');
  })();
  return { close: () => controller.abort() };
}
