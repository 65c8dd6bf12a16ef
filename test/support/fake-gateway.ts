import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Gateway } from '../../src/gateway/gateway.js';
import type { Store } from '../../src/store/store.js';
import { openStore } from '../../src/store/open-store.js';
import { FakeRuntime } from './fake-runtime.js';

/**
 * Whole gateways (store, activator, API) in this process on one SQLite file in a
 * temp dir and one fake engine, which outlives them as Docker outlives a gateway:
 * a test stops one at any step (a crash: `abandon`) and starts the next on the
 * same file and engine, then looks at what the new one shows.
 */
export class FakeGatewayBed {
  readonly runtime = new FakeRuntime();
  readonly adminToken = `test-admin-${Math.random().toString(36).slice(2)}`;
  /** Wraps each gateway's store (to fail or stop at a chosen step); the store as opened by default. */
  wrapStore: (store: Store) => Store = (store) => store;
  private readonly live = new Set<Gateway>();

  private constructor(readonly dir: string) {}

  /** `parent`: where its temp dir is made (a small filesystem, say); the system's temp dir by default. */
  static async create(configExtra = '', parent = tmpdir()): Promise<FakeGatewayBed> {
    const dir = await mkdtemp(join(parent, 'berth-fakegw-'));
    await writeFile(join(dir, 'berth.yaml'), `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\napps: []\n${configExtra}`);
    return new FakeGatewayBed(dir);
  }

  get storePath(): string {
    return join(this.dir, 'berth.db');
  }

  /** `logger`: one to read what the gateway logs (silent by default). */
  async start(options: { logger?: Logger } = {}): Promise<Gateway> {
    const gateway = new Gateway(join(this.dir, 'berth.yaml'), {
      logger: options.logger ?? pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }),
      openStore: async (config) => this.wrapStore(await openStore(config.store)),
      runtime: (_config, hooks) => {
        this.runtime.storeId = hooks.storeId;
        return this.runtime;
      },
      adminToken: this.adminToken,
    });
    await gateway.start();
    this.live.add(gateway);
    return gateway;
  }

  /** Calls the gateway's admin API with the admin token. */
  async api(gateway: Gateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`http://127.0.0.1:${gateway.adminAddress!.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  async stop(gateway: Gateway): Promise<void> {
    this.live.delete(gateway);
    await gateway.close();
  }

  /** Drops a gateway that was "killed" (its store failing): closed as far as it goes, errors ignored. */
  async abandon(gateway: Gateway): Promise<void> {
    this.live.delete(gateway);
    await gateway.close().catch(() => undefined);
  }

  async dispose(): Promise<void> {
    for (const gateway of this.live) await gateway.close().catch(() => undefined);
    await this.runtime.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The path a quiet-stream gateway's app `s` answers with an event stream's head and then nothing. */
export const QUIET_STREAM_PATH = '/session/s/stream';

/**
 * A gateway (disposed after the test) whose app `s` is started and answers
 * QUIET_STREAM_PATH as a quiet event stream does: its head, then nothing, for good.
 * `configExtra` goes into the gateway's config, `specExtra` into the app's spec.
 */
export async function quietStreamGateway(
  t: { after(fn: () => unknown): void },
  configExtra = '',
  specExtra: Record<string, unknown> = {},
): Promise<{ bed: FakeGatewayBed; gateway: Gateway }> {
  const bed = await FakeGatewayBed.create(configExtra);
  t.after(() => bed.dispose());
  bed.runtime.behave('s', { quietStreamPath: QUIET_STREAM_PATH });
  const gateway = await bed.start();
  const created = await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 's', image: 'fake/s:1', port: 8080, readiness: { path: '/healthz' }, ...specExtra });
  if (created.status >= 300) throw new Error(`app s not created: ${JSON.stringify(created.json)}`);
  const started = await bed.api(gateway, 'POST', '/v1/apps/s/start');
  if (started.status !== 200) throw new Error(`app s not started: ${JSON.stringify(started.json)}`);
  return { bed, gateway };
}
