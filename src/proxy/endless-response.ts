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
  if (typeof value !== 'string') return false;
  // Most types are ruled out by their first characters, without the regex (run per response):
  // one that starts with neither `t` nor a space the regex allows, or `t` but not `text/e`.
  const first = value.charCodeAt(0) | 0x20;
  if (first === 0x74 /* t */) {
    if ((value.charCodeAt(5) | 0x20) !== 0x65 /* e */) return false;
  } else if (first !== 0x20 && !(first >= 0x29 && first <= 0x2d) && value.charCodeAt(0) < 0x80) return false;
  return EVENT_STREAM.test(value);
}

const EVENT_STREAM = /^\s*text\/event-stream\s*(;|$)/i;
