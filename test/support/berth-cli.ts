import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real `berth` binary of this checkout (tests run from dist/test/, the bin from the repo root). */
export const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for one CLI run: this process's, without anything that
 * would point the CLI at a real user's gateway or settings, plus `extra`.
 * Keys set to undefined in `extra` stay unset.
 */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['BERTH_URL', 'BERTH_TOKEN', 'BERTH_ADMIN_TOKEN', 'XDG_CONFIG_HOME', 'NO_COLOR']) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A running `berth` process whose output is collected as it comes. */
export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  exited: Promise<CliResult>;
}

export function spawnBerth(args: readonly string[], env: NodeJS.ProcessEnv, input?: string): CliProcess {
  const child = spawn(process.execPath, [BERTH_BIN, ...args], { env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(input);
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs `berth ARGS...` to its end; killed (and failed) after `timeoutMs` so no test hangs on it. */
export async function berth(args: readonly string[], env: NodeJS.ProcessEnv, options: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const run = spawnBerth(args, env, options.input);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`berth ${args.join(' ')}: still running after ${timeoutMs} ms (stdout: ${run.stdout()}, stderr: ${run.stderr()})`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([run.exited, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `berth ARGS... -o json`, expects success, and parses what it printed. */
export async function berthJson<T = any>(args: readonly string[], env: NodeJS.ProcessEnv): Promise<T> {
  const result = await berth([...args, '-o', 'json'], env);
  if (result.code !== 0) throw new Error(`berth ${args.join(' ')} -o json exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** A failed run's stderr: exactly one line, `berth: ...`. Returns the line. */
export function errorLine(result: CliResult): string {
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || !lines[0]!.startsWith('berth: ')) throw new Error(`expected one "berth: ..." line on stderr, got: ${JSON.stringify(result.stderr)}`);
  return lines[0]!;
}
