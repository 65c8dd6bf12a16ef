import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appsTable, refusedNote } from '../../src/cli/commands/ls.js';
import { paint } from '../../src/cli/colour.js';
import type { AppView } from '../../src/cli/api-types.js';

function app(name: string, policyRefused?: string): AppView {
  const now = new Date().toISOString();
  return {
    name,
    revision: 1,
    source: 'api',
    createdAt: now,
    updatedAt: now,
    state: 'running',
    status: { name, state: 'running', since: now, inFlight: 0, waiting: 0, ...(policyRefused ? { policyRefused } : {}) },
    routes: [{ path: `/${name}/`, stripPrefix: false, url: `http://127.0.0.1:8080/${name}/` }],
    instances: [],
    spec: { image: 'app:1', port: 80, env: {}, scale: { min: 0, max: 1 } },
  } as unknown as AppView;
}

const cases: Array<{ name: string; apps: AppView[]; states: string[]; note: RegExp | undefined }> = [
  { name: 'none refused', apps: [app('a'), app('b')], states: ['running', 'running'], note: undefined },
  { name: 'one refused', apps: [app('a'), app('b', 'image b:1 is not allowed')], states: ['running', 'running,refused'], note: /policy refuses the spec of b;.*berth get NAME/ },
  {
    name: 'five refused: three named, the rest counted',
    apps: ['a', 'b', 'c', 'd', 'e'].map((n) => app(n, 'privileged')),
    states: Array(5).fill('running,refused'),
    note: /of a, b, c and 2 more;/,
  },
];

for (const c of cases) {
  test(`berth ls flags apps the policy refuses: ${c.name}`, () => {
    const table = appsTable(c.apps, paint(false), Date.now());
    const rows = table.trimEnd().split('\n').slice(1);
    assert.deepEqual(
      rows.map((row) => row.split(/\s{2,}/)[1]),
      c.states,
    );
    const note = refusedNote(c.apps);
    if (c.note) assert.match(note ?? '', c.note);
    else assert.equal(note, undefined);
  });
}

test("a refused app's name in the note is shown, never obeyed by the terminal", () => {
  assert.doesNotMatch(refusedNote([app('x\x1b]0;pwned\x07', 'no')]) ?? '', /\x1b/);
});
