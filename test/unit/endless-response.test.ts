import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEventStream } from '../../src/proxy/endless-response.js';

test('an event stream is told by its media type, whatever its case, spaces and parameters; nothing else is one', () => {
  for (const yes of ['text/event-stream', 'Text/Event-Stream', 'text/event-stream; charset=utf-8', '  text/event-stream', '\ttext/event-stream ;x=1', ['text/event-stream', 'text/plain']]) {
    assert.equal(isEventStream(yes), true, JSON.stringify(yes));
  }
  for (const no of [undefined, '', 'text/plain', 'text/html; charset=utf-8', 'application/json', 'text/event-streams', 'text/events', 'xtext/event-stream', ' text/plain', '\u00a0text/html', ['text/plain', 'text/event-stream'], 't']) {
    assert.equal(isEventStream(no), false, JSON.stringify(no));
  }
});
