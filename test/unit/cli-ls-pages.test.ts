// `berth ls --limit N` shows one page of apps and says how to get the next; without it, every
// app, pages followed to the end. A gateway in this process on the fake engine; the real CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from '../../src/gateway/gateway.js';
import { berth, cliEnv, errorLine } from '../support/berth-cli.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

let bed: FakeGatewayBed;
let gateway: Gateway;
let env: NodeJS.ProcessEnv;
const NAMES = ['a1', 'a2', 'b1', 'b2', 'c1'];

before(async () => {
  bed = await FakeGatewayBed.create();
  gateway = await bed.start();
  for (const name of NAMES) assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name, image: 'fake/web:1', port: 8080 })).status, 200);
  env = cliEnv({ NO_COLOR: '1', HOME: '/nonexistent', BERTH_URL: `http://127.0.0.1:${gateway.adminAddress!.port}`, BERTH_TOKEN: bed.adminToken });
});

after(async () => {
  await bed?.dispose();
});

/** The NAME column of a table berth ls printed. */
const names = (table: string) => table.trimEnd().split('\n').slice(1).map((row) => row.split(/\s+/)[0]);

test('berth ls --limit 2 prints one page and the command for the next, until the last page', async () => {
  const seen: string[] = [];
  let args = ['ls', '--limit', '2'];
  for (let pages = 0; pages < 5; pages++) {
    const result = await berth(args, env);
    assert.equal(result.code, 0, result.stderr);
    const page = names(result.stdout);
    assert.ok(page.length <= 2 && page.length > 0, result.stdout);
    seen.push(...(page as string[]));
    const more = /^more: berth (ls --limit 2 --cursor \S+)$/m.exec(result.stderr);
    if (!more) break;
    args = more[1]!.split(' ');
  }
  assert.deepEqual(seen, NAMES, 'every app once, in name order');
});

test('berth ls without --limit lists every app; -o json with --limit prints that page alone, the hint on stderr', async () => {
  const all = await berth(['ls'], env);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(names(all.stdout), NAMES);
  assert.doesNotMatch(all.stderr, /more:/);
  const json = await berth(['ls', '--limit', '3', '-o', 'json'], env);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual((JSON.parse(json.stdout) as Array<{ name: string }>).map((a) => a.name), NAMES.slice(0, 3));
  assert.match(json.stderr, /^more: berth ls --limit 3 --cursor \S+\n$/);
});

test('berth ls refuses a page size out of range and a cursor the API does not know, in one line', async () => {
  for (const limit of ['0', '1001', '-5', '2.5', 'ten']) {
    const result = await berth(['ls', '--limit', limit], env);
    assert.equal(result.code, 2, `${limit}: ${result.stderr}`);
    assert.match(errorLine(result), /--limit.*whole number from 1 to 1000/);
  }
  const bad = await berth(['ls', '--cursor', '!!not-a-cursor!!'], env);
  assert.notEqual(bad.code, 0);
  assert.match(errorLine(bad), /cursor/);
});
