/**
 * Whether an app's response is an event stream (`text/event-stream`): an answer that
 * never ends by itself. The proxy answers a client that half-closes after its request
 * (see src/net/half-open.ts), but no client half-closes to wait for the end of an
 * answer that has none: EOF from an event stream's client is a client that left (a
 * closed tab), as the admin API takes it for its own streams (src/api/endless-answer.ts).
 * A quiet stream writes nothing that would find out otherwise, so without this its
 * request stayed in flight (the app never idle-stopped) and its upstream connection
 * open until the app next wrote, which may be never. Pure.
 */
export function isEventStream(contentType: string | readonly string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return typeof value === 'string' && /^\s*text\/event-stream\s*(;|$)/i.test(value);
}
