// `npm ci`'s prepare builds a fresh clone, and skips the build when its outputs are newer
// than every source (npm 11's `npx berth` runs prepare again on its first use).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/prepare.mjs');

function tree(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-prepare-'));
  for (const [file, ageS] of Object.entries(files)) {
    const p = join(root, file);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, '');
    const t = Date.now() / 1000 - ageS;
    utimesSync(p, t, t);
  }
  return root;
}

const built = { 'dist/src/cli/main.js': 10, 'schema/berth-app.schema.json': 10 };
const cases: Array<[string, Record<string, number>, string]> = [
  ['a fresh clone (no dist)', { 'src/a.ts': 100, 'tsconfig.json': 100, 'schema/berth-app.schema.json': 100 }, 'build: dist/src/cli/main.js is missing'],
  ['outputs newer than every source', { ...built, 'src/x/a.ts': 100, 'test/b.ts': 100, 'tsconfig.json': 100 }, 'up to date'],
  ['a source edited after the build', { ...built, 'src/a.ts': 100, 'test/unit/b.ts': 1 }, 'build: test/ changed since the last build'],
  ['tsconfig edited after the build', { ...built, 'src/a.ts': 100, 'tsconfig.json': 1 }, 'build: tsconfig.json changed since the last build'],
  ['a newer non-TypeScript file does not count', { ...built, 'src/a.ts': 100, 'src/ui/static/app.css': 1 }, 'up to date'],
];

for (const [name, files, expected] of cases) {
  test(`prepare: ${name}`, (t) => {
    const root = tree(files);
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const out = execFileSync(process.execPath, [script, '--check', root], { encoding: 'utf8' }).trim();
    assert.equal(out, expected);
  });
}
