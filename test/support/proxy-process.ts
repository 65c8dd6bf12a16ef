import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./proxy-child.js', import.meta.url));

/** berth's ProxyServer in a child process (see proxy-child.ts), in front of upstreams on `targets` ports. */
export class ProxyProcess {
  port = 0;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly targets: Record<string, number>,
  ) {}

  static async start(targets: Record<string, number>): Promise<ProxyProcess> {
    const child = spawn(process.execPath, [CHILD], { env: { ...process.env, ADV_PROXY_TARGETS: JSON.stringify(targets) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new ProxyProcess(child, targets);
    const keep = (c: Buffer) => {
      p.output = (p.output + c.toString()).slice(-128 * 1024);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', (code, signal) => (p.exit = { code, signal }));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`proxy child did not start: ${p.output}`)), 10_000);
      child.once('exit', () => reject(new Error(`proxy child exited at start: ${p.output}`)));
      const onData = () => {
        const m = /proxy listening on (\d+)/.exec(p.output);
        if (!m) return;
        p.port = Number(m[1]);
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve();
      };
      child.stderr!.on('data', onData);
    });
    return p;
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.exitCode === null;
  }

  tail(chars = 3000): string {
    const since = this.output.lastIndexOf('proxy listening on');
    return this.output.slice(Math.max(since, this.output.length - chars, 0));
  }

  /** Waits briefly for a crash's exit event, then throws if the proxy died. */
  async assertAlive(context: string): Promise<void> {
    for (let i = 0; i < 8 && this.alive; i++) await new Promise((r) => setTimeout(r, 25));
    if (!this.alive) throw new Error(`proxy process died after ${context} (exit ${JSON.stringify(this.exit)}):\n${this.tail()}`);
  }

  /** A fresh child if this one died, so one crash fails one case only. */
  async respawnIfDead(): Promise<ProxyProcess> {
    if (this.alive) return this;
    return ProxyProcess.start(this.targets);
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
