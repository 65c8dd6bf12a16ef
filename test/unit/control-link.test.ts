// A worker's messages to its control while the control does not read (SIGSTOP, a
// blocked event loop): every wake (one per request for an app that was not running)
// and every pong used to queue in the worker's memory for as long as it lasted. Now a
// few wait in the channel; a pong is not queued behind them, and wakes are held here,
// one per app, which further requests for the app join.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlLink } from '../../src/cluster/control-link.js';
import type { FromProxy, RequestFacts, WakeAnswer } from '../../src/cluster/state-feed.js';

const facts: RequestFacts = { method: 'GET', url: '/', headers: {}, upgrade: false };
const ready: WakeAnswer = { kind: 'page', title: 'ready' };
const silent: WakeAnswer = { kind: 'fail', error: { message: 'the control is silent', berth: true } };

/** A channel that writes nothing until `read` (the control is stopped). */
function stoppedChannel(maxUnwritten = 2) {
  const sent: FromProxy[] = [];
  const unwritten: Array<() => void> = [];
  let id = 1;
  const link = new ControlLink({ send: (m, written) => (sent.push(m), unwritten.push(written)), nextId: () => id++, maxUnwritten });
  return { link, sent, read: () => unwritten.splice(0).forEach((w) => w()) };
}

test('while the control reads, every request sends its own wake (each holds its place in the queue), and a pong per ping', () => {
  let id = 1;
  const sent: FromProxy[] = [];
  const link = new ControlLink({ send: (m, written) => (sent.push(m), written()), nextId: () => id++ });
  link.wake('web', facts);
  link.wake('web', facts);
  link.pong();
  assert.deepEqual(sent.map((m) => m.t), ['wake', 'wake', 'pong']);
});

test('a control that does not read: pongs are not queued, wakes are held one per app, and 10,000 requests add nothing more', async () => {
  const { link, sent, read } = stoppedChannel();
  const first = link.wake('web', facts);
  const second = link.wake('web', facts);
  assert.equal(sent.length, 2, 'two wakes in the channel, up to its bound');
  link.pong();
  assert.equal(sent.length, 2, 'no pong queued behind a backlog (the backlog says the worker lives)');
  const answers: Array<Promise<WakeAnswer>> = [];
  for (let i = 0; i < 10_000; i++) answers.push(link.wake(i % 2 ? 'web' : 'docs', facts).answer);
  assert.equal(sent.length, 2, 'nothing more handed to the channel');
  assert.equal(link.heldCount, 2, 'one held wake per app');

  // The control reads again: the held wakes go, one each, and their answers reach every request that joined.
  read();
  const wakes = sent.filter((m): m is Extract<FromProxy, { t: 'wake' }> => m.t === 'wake');
  assert.deepEqual(wakes.map((w) => w.app), ['web', 'web', 'docs', 'web'], 'held in the order the apps were first asked for');
  assert.equal(link.heldCount, 0);
  for (const w of wakes) link.answered(w.id, ready);
  assert.deepEqual(await first.answer, ready);
  assert.deepEqual(await second.answer, ready);
  const all = await Promise.all(answers);
  assert.ok(all.every((a) => a === ready));
});

test('a silent control: held wakes are answered here and never sent; sent ones are answered and left', async () => {
  const { link, sent } = stoppedChannel(1);
  const sentWake = link.wake('web', facts).answer;
  const held = [link.wake('web', facts).answer, link.wake('web', facts).answer];
  link.failAll(() => silent);
  assert.deepEqual(await sentWake, silent);
  assert.deepEqual(await Promise.all(held), [silent, silent]);
  assert.deepEqual(sent.map((m) => m.t), ['wake', 'leave'], 'the sent wake is left; the held one never goes');
  assert.equal(link.heldCount, 0);
});

test('leave: a held wake whose every request went is dropped; a sent one is left once its last request goes, never after its answer', () => {
  const { link, sent, read } = stoppedChannel(1);
  const a = link.wake('web', facts);
  const b = link.wake('docs', facts);
  const c = link.wake('docs', facts);
  b.leave();
  c.leave();
  assert.equal(link.heldCount, 0, 'nobody waits on the held wake for docs: dropped');
  a.leave();
  read();
  assert.deepEqual(sent.map((m) => m.t), ['wake', 'leave']);
  // Answered, then left: no leave (the answer already gave the place back).
  const d = link.wake('web', facts);
  read();
  const wake = sent.at(-1) as Extract<FromProxy, { t: 'wake' }>;
  link.answered(wake.id, ready);
  d.leave();
  assert.equal(sent.at(-1)?.t, 'wake');
});
