import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scrubbedArgs } from '../../src/cli/argv-scrub.js';
import { cliEnv, spawnBerth } from '../support/berth-cli.js';
import { waitFor } from '../support/wait-for.js';

test('the token and a store password are masked in what the process shows; other arguments stay', () => {
  const node = ['/usr/bin/node', '/opt/berth/bin/berth.js'];
  assert.deepEqual(scrubbedArgs([...node, '--token', 'berth_abc', 'ls']), [...node, '--token', '***', 'ls']);
  assert.deepEqual(scrubbedArgs([...node, 'logs', '--token=berth_abc', '-f', 'web']), [...node, 'logs', '--token=***', '-f', 'web']);
  assert.deepEqual(
    scrubbedArgs([...node, 'store', 'copy', '--from', 'a.db', '--to', 'postgres://berth:s3cr3t@db:5432/berth']),
    [...node, 'store', 'copy', '--from', 'a.db', '--to', 'postgres://berth:***@db:5432/berth'],
  );
  assert.deepEqual(scrubbedArgs([...node, 'store', 'copy', '--to=postgres://u:p@h/d']), [...node, 'store', 'copy', '--to=postgres://u:***@h/d']);
  assert.equal(scrubbedArgs([...node, 'store', 'copy', '--to', 'postgres://berth@db/berth']), undefined, 'no password: nothing to hide');
  assert.equal(scrubbedArgs([...node, 'get', 'web', '--url', 'http://x:1']), undefined);
  assert.equal(scrubbedArgs([...node, 'apply', '--', '--token', 'x']), undefined, 'after -- nothing is an option');
});

test('a running `berth logs -f --token …` shows *** in place of the token in /proc/PID/cmdline (ps)', async () => {
  const streams: ServerResponse[] = [];
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('hello\n');
    streams.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const run = spawnBerth(['logs', '-f', '--token', 'berth_s3cr3tTOKEN', '--url', url, 'web'], cliEnv({ NO_COLOR: '1', HOME: '/nonexistent' }));
  try {
    await waitFor('the follow is under way', () => run.stdout().includes('hello'));
    const shown = readFileSync(`/proc/${run.child.pid}/cmdline`, 'utf8');
    assert.match(shown, /logs -f --token \*\*\* --url/);
    assert.ok(!shown.includes('s3cr3t'), shown);
  } finally {
    run.child.kill('SIGKILL');
    await run.exited;
    for (const res of streams) res.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
