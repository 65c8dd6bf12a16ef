// How the CLI ends when its output or its user does: a reader that leaves early
// (`berth ls | head -1`) is no error; a stdout that cannot be written (`> /dev/full`)
// was Node's stack of an unhandled 'error' event with exit 1 (and `--help > /dev/full`
// exited 0); Ctrl-C while `berth start` waited was a kill mid-line, the shell's prompt
// after "web: starting… ". Each is now one line at most and the usual status.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { outputFailure } from '../../src/cli/output.js';
import { BERTH_BIN, cliEnv, type CliResult } from '../support/berth-cli.js';
import { waitFor } from '../support/wait-for.js';

/** A fake admin API: 3,000 apps (more than a pipe holds), an idle app `web` whose start never answers. */
async function fakeApi(): Promise<{ url: string; server: Server }> {
  const apps = Array.from({ length: 3_000 }, (_, i) => ({ name: `app${i}`, state: 'idle', routes: [], instances: [], spec: { scale: {} } }));
  const server = createServer((req, res) => {
    if (req.method === 'POST') return; // a start that takes its time
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url!.startsWith('/v1/apps?') ? { apps } : { name: 'web', state: 'idle', status: { state: 'idle' }, routes: [], instances: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** Runs `node args` with stdout given as `stdout`; the caller may act on it meanwhile (`during`). */
function run(args: string[], env: NodeJS.ProcessEnv, stdout: 'pipe' | number, during?: (child: ReturnType<typeof spawn>, stderr: () => string) => void): Promise<CliResult> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', stdout, 'pipe'] });
  let err = '';
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  during?.(child, () => err);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
}

describe('berth when its output or its user stops it', { concurrency: true }, () => {
  const env = cliEnv({ NO_COLOR: '1', HOME: '/nonexistent', BERTH_TOKEN: 'berth_abc' });

  it('outputFailure: a reader gone is exit 0 and nothing said; anything else one line and exit 1', () => {
    assert.deepEqual(outputFailure(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), { exitCode: 0 });
    assert.deepEqual(outputFailure(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })), {
      exitCode: 1,
      line: 'berth: cannot write the output: no space left on device (ENOSPC)',
    });
  });

  it('stdout a full disk: one line on stderr and exit 1, for a command that printed (ls -o json) and for --help', async (t) => {
    const api = await fakeApi();
    t.after(() => api.server.close());
    for (const args of [['ls', '-o', 'json', '--url', api.url], ['--help']]) {
      const full = openSync('/dev/full', 'w');
      const result = await run([BERTH_BIN, ...args], env, full).finally(() => closeSync(full));
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr, 'berth: cannot write the output: no space left on device (ENOSPC)\n');
    }
  });

  it('a reader that leaves early (| head -1): exit 0, nothing on stderr', async (t) => {
    const api = await fakeApi();
    t.after(() => api.server.close());
    // The reader's end is closed before berth writes: its first write meets EPIPE.
    const result = await run([BERTH_BIN, 'ls', '-o', 'json', '--url', api.url], env, 'pipe', (child) => child.stdout!.destroy());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  it('Ctrl-C while a start waits: the progress line is ended and the exit code is 130', async (t) => {
    const api = await fakeApi();
    t.after(() => api.server.close());
    const result = await run([BERTH_BIN, 'start', 'web', '--url', api.url], env, 'pipe', (child, stderr) => {
      void waitFor('the start under way', () => stderr().includes('web: starting…\n'), { timeoutMs: 20_000 }).then(() => child.kill('SIGINT'), () => child.kill('SIGKILL'));
    });
    assert.equal(result.code, 130, `${result.signal} ${result.stderr}`);
    assert.equal(result.stderr, 'web: starting…\nweb: interrupted\n');
  });

  it('on a terminal, where the progress and the outcome share a line, Ctrl-C ends that line', async () => {
    const progress = new URL('../../src/cli/progress.js', import.meta.url).href;
    const script = `const { Progress } = await import(${JSON.stringify(progress)}); new Progress(true).begin('web', 'starting'); setInterval(() => {}, 60_000);`;
    const result = await run(['--input-type=module', '-e', script], env, 'pipe', (child, stderr) => {
      void waitFor('the progress line', () => stderr() !== '', { timeoutMs: 20_000 }).then(() => child.kill('SIGINT'), () => child.kill('SIGKILL'));
    });
    assert.equal(result.code, 130, `${result.signal} ${result.stderr}`);
    assert.equal(result.stderr, 'web: starting… interrupted\n');
  });
});
