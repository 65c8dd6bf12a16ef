// A signal gets Node's default until a listener of our own exists: SIGUSR1 opens the inspector
// (any local user could run code in the gateway), and a Ctrl-C, which reaches the whole process
// group, ended a proxy worker instead of leaving its drain to the control. The listeners were
// added only after the entry's imports ran (a second or more on a busy machine). Now
// early-signals.ts runs first: a load hook marks every berth module that runs before them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { earlyIgnored } from '../../src/early-signals.js';
import { BERTH_BIN, cliEnv } from '../support/berth-cli.js';

const WORKER_ENTRY = fileURLToPath(new URL('../../src/cluster/worker-entry.js', import.meta.url));

/** Prepends to each berth module (but early-signals) a line that says so if it runs before the listeners exist. */
const HOOKS = `
export async function load(url, context, next) {
  const result = await next(url, context);
  if (!url.includes('/dist/src/') || url.endsWith('/early-signals.js') || result.format !== 'module') return result;
  const check = "{ const need = process.env.PROBE_WORKER ? ['SIGUSR1', 'SIGINT', 'SIGTERM'] : ['SIGUSR1'];"
    + " const bare = need.filter((s) => process.listenerCount(s) === 0);"
    + " if (bare.length) process.stderr.write('UNGUARDED ' + bare.join(',') + ' ' + import.meta.url + '\\\\n'); }\\n";
  return { ...result, source: check + String(result.source) };
}
`;

/** A control that forks one proxy worker of the real entry and ends it once it says it is ready. */
const PRIMARY = `
import cluster from 'node:cluster';
cluster.setupPrimary({ exec: process.argv[2], args: [] });
// Node deletes NODE_UNIQUE_ID as a worker starts: the probe is told by a variable of its own.
const worker = cluster.fork({ PROBE_WORKER: '1' });
worker.on('message', (m) => { if (m && m.t === 'ready') { console.log('READY'); worker.process.kill('SIGKILL'); } });
`;

function run(args: string[], dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, ...args], { env: cliEnv({ HOME: '/nonexistent' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('signals ignored from the first moment', { concurrency: true }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-early-signals-'));
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  writeFileSync(join(dir, 'primary.mjs'), PRIMARY);
  let left = 2;
  const done = () => {
    if (--left === 0) rmSync(dir, { recursive: true, force: true });
  };

  it('earlyIgnored: every process SIGUSR1; a proxy worker the stop signals too', () => {
    assert.deepEqual(earlyIgnored(false), ['SIGUSR1']);
    for (const signal of ['SIGUSR1', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2']) assert.ok(earlyIgnored(true).includes(signal as NodeJS.Signals), signal);
  });

  it('the CLI: no berth module runs before SIGUSR1 has a listener', async (t) => {
    t.after(done);
    const cli = await run([BERTH_BIN, '--version'], dir);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^\d+\.\d+\.\d+/);
    assert.doesNotMatch(cli.stderr, /UNGUARDED/);
  });

  it('a proxy worker: no berth module runs before SIGUSR1, SIGINT and SIGTERM have listeners', async (t) => {
    t.after(done);
    const worker = await run([join(dir, 'primary.mjs'), WORKER_ENTRY], dir);
    assert.match(worker.stdout, /READY/, worker.stderr);
    assert.doesNotMatch(worker.stderr, /UNGUARDED/);
  });
});
