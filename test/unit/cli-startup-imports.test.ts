// Every berth command but `serve` is an API client: what `bin/berth.js` loads before it parses its
// arguments is paid by every `berth ls`, and by every CLI run of the suite (~60 in the engine lane).
// The gateway's libraries are loaded by `serve` alone (src/cli/serve.ts imports them in its action);
// this walks the compiled static imports from the CLI's entry and checks that none of them is reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

// A static import or re-export as tsc writes it: only identifiers, braces, commas, `*` and `as`
// between the keyword and `from`, so nothing in a function body matches. `import type` is erased.
const STATIC = /^\s*(?:import|export)\s+(?:[\w$*\s{},]+?\s+from\s+)?['"]([^'"]+)['"]/gm;

/** The files and packages reached by static imports from `entry` (a dist/src path). */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string>; via: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const via = new Map<string, string>();
  const queue = [resolve(SRC, entry)];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC)) {
      if (spec!.startsWith('.')) {
        queue.push(join(dirname(file), spec!));
      } else if (!spec!.startsWith('node:')) {
        const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
        packages.add(name);
        if (!via.has(name)) via.set(name, file.slice(SRC.length));
      }
    }
  }
  return { files, packages, via };
}

test('the CLI loads none of the gateway’s libraries before it parses its arguments (every command but serve starts faster)', () => {
  const { files, packages, via } = staticGraph('cli/main.js');
  assert.ok(files.size > 20, `the walk followed the imports (${files.size} files)`);
  assert.ok(packages.has('commander'), 'and saw the packages the CLI does use');
  // zod (the spec's schemas), yaml (-o yaml alone needs it) and undici (Node's own http client serves the CLI's few calls) cost ~0.3-0.4 s each of every run on a busy machine; the rest are the gateway's.
  for (const heavy of ['zod', 'yaml', 'undici', 'dockerode', 'pg', 'pino', 'ws', 'better-sqlite3', 'acme-client', 'prom-client']) {
    assert.ok(!packages.has(heavy), `${heavy} is loaded by every CLI command (imported from ${via.get(heavy)})`);
  }
  const gatewaySide = [...files].map((f) => f.slice(SRC.length)).filter((f) => /^(gateway|runtime|activator|store\/open-store|log)\b/.test(f));
  assert.deepEqual(gatewaySide, [], 'the gateway’s own modules are loaded by serve alone');
});

test('-o yaml loads the YAML library on first use and prints the data as YAML', async () => {
  const { printData } = await import('../../src/cli/output.js');
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
  try {
    assert.equal(printData('yaml', { name: 'web', instances: [{ state: 'running' }] }), true);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(written.join(''), 'name: web\ninstances:\n  - state: running\n');
});

test('the gateway loads acme-client (1-3 s on a busy machine) only to order a certificate, and pg only on a PostgreSQL store', () => {
  const { files, packages, via } = staticGraph('gateway/gateway.js');
  assert.ok(files.has(resolve(SRC, 'tls/acme/acme-manager.js')), 'the walk reached the ACME manager');
  assert.ok(packages.has('zod'), 'and the packages the gateway does load');
  assert.ok(!packages.has('acme-client'), `acme-client is loaded by every gateway (imported from ${via.get('acme-client')})`);
  assert.ok(!packages.has('pg'), `pg is loaded by every gateway (imported from ${via.get('pg')})`);
});
