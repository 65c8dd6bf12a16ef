#!/usr/bin/env node
// npm's `prepare`: build unless the build is already newer than every source.
//
// Why not always build: npm 11's `npx berth`, run inside this project, links the project
// into npx's cache and runs `prepare` there first, on every first use in a clone. A full
// tsc build takes a minute or more on a busy machine, so the README's first `npx berth …`
// sat silent that long after `npm ci` had just built the same files. `npm run build`
// still always builds.
//
// `node scripts/prepare.mjs --check [root]` prints what it would do and builds nothing.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The outputs the build makes; any missing one means build. */
const OUTPUTS = ['dist/src/cli/main.js', 'schema/berth-app.schema.json'];
/** What tsc compiles (tsconfig's include) and what steers it. */
const SOURCE_DIRS = ['src', 'test', 'bench'];
const SOURCE_FILES = ['tsconfig.json'];

/** Newest mtime (ms) of the .ts files under dir, or 0. */
function newestTs(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Why the tree at root needs a build, or undefined when its outputs are up to date. */
export function staleReason(root) {
  let oldestOutput = Infinity;
  for (const out of OUTPUTS) {
    const t = mtime(join(root, out));
    if (t === undefined) return `${out} is missing`;
    oldestOutput = Math.min(oldestOutput, t);
  }
  for (const d of SOURCE_DIRS) {
    if (newestTs(join(root, d)) > oldestOutput) return `${d}/ changed since the last build`;
  }
  for (const f of SOURCE_FILES) {
    if ((mtime(join(root, f)) ?? 0) > oldestOutput) return `${f} changed since the last build`;
  }
  return undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv[2] === '--check';
  const root = resolve(check && process.argv[3] ? process.argv[3] : join(dirname(fileURLToPath(import.meta.url)), '..'));
  const reason = staleReason(root);
  if (check) {
    console.log(reason === undefined ? 'up to date' : `build: ${reason}`);
  } else if (reason !== undefined) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}
