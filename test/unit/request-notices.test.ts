import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestNotices, REQUEST_EVENT_EVERY_MS } from '../../src/gateway/request-notices.js';
import { StateEvents, type GatewayEvent } from '../../src/gateway/state-events.js';


test('written batches become one `request` event per app per second, with the count', async () => {
  const events = new StateEvents();
  const seen: GatewayEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const notices = new RequestNotices(events);
  try {
    notices.written(['a', 'b', 'a']);
    notices.written(['a']);
    assert.equal(seen.length, 0, 'nothing before the second is over');
    await new Promise((r) => setTimeout(r, REQUEST_EVENT_EVERY_MS + 200));
    const counts = Object.fromEntries(seen.map((e) => [e.app, e.type === 'request' ? e.count : -1]));
    assert.deepEqual(counts, { a: 3, b: 1 });
    notices.written(['a']);
    notices.close();
    await new Promise((r) => setTimeout(r, REQUEST_EVENT_EVERY_MS + 200));
    assert.equal(seen.length, 2, 'closed: nothing more');
  } finally {
    notices.close();
  }
});
