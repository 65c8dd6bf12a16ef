import { createServer, type Server } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { ConflictError, EngineUnavailableError, NotFoundError } from '../../src/errors.js';
import type { Instance, Runtime, RuntimeEvent, RuntimeEventKind, StopOutcome } from '../../src/runtime/runtime.js';
import { notGrantedBy, specAllowance } from '../../src/runtime/launch-allowance.js';
import { containerSpecHash } from '../../src/spec/hash.js';
import type { AppSpec } from '../../src/spec/types.js';

/**
 * How one app's containers behave in the fake engine. Times are real but
 * short: readiness is probed over HTTP, so each running container is a tiny
 * server on 127.0.0.1 (port 0) that answers 503 until it is "ready".
 */
export interface FakeBehaviour {
  /** How long `start` takes before it returns. */
  startDelayMs?: number;
  /** How long after a start the container answers 200 (503 before). */
  readyAfterMs?: number;
  /** The container never becomes ready (always 503). */
  neverReady?: boolean;
  /** The container exits with this code this long after it starts (a crashing app). */
  exitAfterMs?: number;
  exitCode?: number;
  /** `start` fails with this error. */
  startError?: () => Error;
  /** What its containers wrote (their logs). */
  output?: string;
  /** The app ignores SIGTERM: a stop comes to SIGKILL (at once here, not after the timeout) and the container exits with 137. */
  ignoresSigterm?: boolean;
  /** In its first run only, the container answers 500 from this long after its first healthy answer (it fails its health checks until restarted). */
  sickAfterMs?: number;
  /** Requests for this path get an event stream's head and then nothing, for good (a quiet SSE endpoint). */
  quietStreamPath?: string;
  /** A `docker pause` lands between a start and the engine's answer to it, once: that start returns the container paused, with no address. */
  pausedAtStart?: boolean;
  /** Once: the engine starts the container and its answer is lost (the connection cut as it came): the start fails as an unreachable engine. */
  startAnswerLost?: boolean;
}

interface FakeContainer {
  instance: Instance;
  image: string;
  server?: Server;
  readyAtMs: number;
  exitTimer?: NodeJS.Timeout;
  /** How many times it was started. */
  runs?: number;
  /** Readiness probes it answered (requests with berth's readiness user-agent), over all its runs. */
  probes: number;
}

/**
 * An in-memory Runtime: the verbs of src/runtime/runtime.ts on a map of
 * containers, the same events the Docker runtime emits, and knobs for delays,
 * failures, exits, an engine outage and changes made behind berth's back.
 * Every server it opens is closed by `close()`.
 */
export class FakeRuntime implements Runtime {
  readonly containers = new Map<string, FakeContainer>();
  readonly behaviour = new Map<string, FakeBehaviour>();
  /** Calls per verb, to assert single flight and the like. */
  readonly calls = { ensure: 0, start: 0, stop: 0, pause: 0, unpause: 0, remove: 0, list: 0, probe: 0, inspect: 0 };
  /** Images whose containers never become ready (a broken revision). */
  readonly badImages = new Set<string>();
  /** While set, every verb fails as an unreachable engine does. */
  engineDown = false;
  /** The Retry-After an engine outage carries. */
  engineRetryAfterS = 5;
  /** While set, no event reaches a listener: the gap of an event stream that reconnects after an engine restart. */
  eventsLost = false;
  /** Events of these kinds are held, with their time, until releaseHeldEvents(): an event stream that lags behind the engine's answers. */
  readonly heldKinds = new Set<RuntimeEventKind>();
  private held: RuntimeEvent[] = [];
  /** How long `list` takes to answer (a busy engine); its answer is as of the call. */
  listDelayMs = 0;
  /** The `berth.store` label its containers get (as a gateway's DockerRuntime gives them); none when unset. */
  storeId?: string;
  private seq = 0;
  private listeners = new Set<(e: RuntimeEvent) => void>();

  behave(app: string, behaviour: FakeBehaviour): void {
    this.behaviour.set(app, behaviour);
  }

  /** The next this many engine calls fail as an unreachable engine's do (a flaky engine). */
  failCalls = 0;
  /** While set, each engine call first hangs this long, then fails as the Docker runtime's own call timeout makes it (a hung engine). */
  hangMs = 0;

  private async guard(): Promise<void> {
    if (this.hangMs > 0) {
      await sleep(this.hangMs);
      throw new EngineUnavailableError(`the Docker engine did not answer within ${this.hangMs}ms`, this.engineRetryAfterS);
    }
    if (this.failCalls > 0) {
      this.failCalls--;
      throw new EngineUnavailableError('the Docker engine refused the connection', this.engineRetryAfterS);
    }
    if (this.engineDown) throw new EngineUnavailableError('the Docker engine did not answer within 5s', this.engineRetryAfterS);
  }

  async ping(): Promise<void> {
    await this.guard();
  }

  async probe(): Promise<void> {
    this.calls.probe++;
    await this.guard();
  }

  async ensure(spec: AppSpec, index: number): Promise<Instance> {
    await this.guard();
    this.calls.ensure++;
    const name = `berth-${spec.name}-${index}`;
    const hash = containerSpecHash(spec);
    const existing = [...this.containers.values()].find((c) => c.instance.name === name);
    // One with powers its spec does not give (made outside berth) is made anew, as the Docker runtime's ensure does.
    if (existing && existing.instance.specHash === hash && notGrantedBy(existing.instance.hostPowers ?? [], specAllowance(spec)).length === 0) {
      // Edited behind berth's back: brought back to the spec in place, as the Swarm runtime's ensure updates its service.
      delete existing.instance.outdated;
      return { ...existing.instance };
    }
    if (existing) await this.destroy(existing);
    const id = `fake${++this.seq}`;
    const instance: Instance = { id, name, app: spec.name, index, specHash: hash, state: 'created', health: 'none', ...(this.storeId ? { store: this.storeId } : {}) };
    this.containers.set(id, { instance, image: spec.image, readyAtMs: 0, probes: 0 });
    return { ...instance };
  }

  /** Starts under way, per container; a container started twice at once means two parts of berth both think it theirs. */
  private readonly startingIds = new Map<string, number>();
  /** Each time a container was started while a start of it was still under way. */
  readonly doubleStarts: string[] = [];

  async start(id: string): Promise<Instance> {
    const n = (this.startingIds.get(id) ?? 0) + 1;
    this.startingIds.set(id, n);
    if (n > 1) this.doubleStarts.push(`container ${id} started ${n} times at once`);
    try {
      return await this.startOnce(id);
    } finally {
      this.startingIds.set(id, this.startingIds.get(id)! - 1);
    }
  }

  private async startOnce(id: string): Promise<Instance> {
    await this.guard();
    this.calls.start++;
    const c = this.get(id);
    const b = this.behaviour.get(c.instance.app) ?? {};
    if (b.startDelayMs) await sleep(b.startDelayMs);
    await this.guard();
    if (b.startError) {
      // The engine keeps its reason for a refused start on the container (State.Error), as inspect shows.
      const err = b.startError();
      c.instance.engineError = err.message;
      throw err;
    }
    if (!this.containers.has(id)) throw new NotFoundError(`no container ${id}`);
    // As the Swarm runtime: an edited service is not started as it is; the caller ensures it anew.
    if (c.instance.outdated) throw new NotFoundError(`service ${c.instance.name} was changed outside berth`);
    await this.run(c, b);
    if (b.startAnswerLost) {
      this.behaviour.set(c.instance.app, { ...b, startAnswerLost: false });
      throw new EngineUnavailableError('Docker engine does not answer (ECONNRESET)', this.engineRetryAfterS);
    }
    if (b.pausedAtStart) {
      this.behaviour.set(c.instance.app, { ...b, pausedAtStart: false });
      await this.outsidePause(id);
      const { address: _frozen, ...paused } = c.instance;
      return paused;
    }
    return { ...c.instance };
  }

  async stop(id: string): Promise<StopOutcome> {
    await this.guard();
    this.calls.stop++;
    const c = this.containers.get(id);
    if (!c) throw new NotFoundError(`no container ${id}`);
    const running = c.instance.state === 'running';
    const killed = running && this.behaviour.get(c.instance.app)?.ignoresSigterm === true;
    // The engine reports its SIGTERM first (and its SIGKILL, when it comes to that), as it does for berth's stops too.
    for (const signal of killed ? [15, 9] : running ? [15] : []) this.signal(c, signal);
    await this.halt(c, killed ? 137 : 0, ['die', 'stop']);
    return { killed };
  }

  private signal(c: FakeContainer, signal: number): void {
    this.deliver({ kind: 'kill', app: c.instance.app, instanceId: c.instance.id, time: new Date(), signal });
  }

  async pause(id: string): Promise<void> {
    await this.guard();
    this.calls.pause++;
    const c = this.get(id);
    c.instance.state = 'paused';
    this.emit('pause', c);
  }

  /** As the engine: 404 for a container that is gone, 409 for one that is not paused. */
  async unpause(id: string): Promise<void> {
    await this.guard();
    this.calls.unpause++;
    const c = this.get(id);
    if (c.instance.state !== 'paused') throw new ConflictError(`container ${id} is not paused`);
    c.instance.state = 'running';
    this.emit('unpause', c);
  }

  async remove(id: string): Promise<void> {
    await this.guard();
    this.calls.remove++;
    const c = this.containers.get(id);
    if (c) await this.destroy(c);
  }

  /** The apps whose volume purgeVolume was asked to remove, in order (the fake keeps no volumes). */
  readonly purgedVolumes: string[] = [];

  async purgeVolume(app: string): Promise<void> {
    await this.guard();
    this.purgedVolumes.push(app);
  }

  async list(filter?: { app?: string }): Promise<Instance[]> {
    await this.guard();
    this.calls.list++;
    // Taken before the delay: a slow list answers with how things were when it was asked.
    // As the Docker runtime's list: a never-started container is read from the list summary, which has no State.Error.
    const listed = (i: Instance): Instance => {
      const copy = { ...i };
      if (copy.state === 'created') delete copy.engineError;
      return copy;
    };
    const snapshot = [...this.containers.values()].map((c) => listed(c.instance)).filter((i) => !filter?.app || i.app === filter.app);
    if (this.listDelayMs) await sleep(this.listDelayMs);
    await this.guard();
    return snapshot;
  }

  /** Every fake image exposes its app's port (8080) unless a test set others. */
  imagePorts(image: string): Promise<number[] | undefined> {
    return Promise.resolve(this.exposedPorts.get(image) ?? [8080]);
  }

  /** EXPOSEd ports per image, for tests of port resolution. */
  readonly exposedPorts = new Map<string, number[]>();

  async inspect(id: string): Promise<Instance | undefined> {
    await this.guard();
    this.calls.inspect++;
    const c = this.containers.get(id);
    return c ? { ...c.instance } : undefined;
  }

  /** The log follows handed out (a quiet app's: they never end by themselves), to see who closes them. */
  readonly follows: PassThrough[] = [];

  async logs(id: string, options?: { follow?: boolean }): Promise<Readable> {
    const output = this.behaviour.get(this.get(id).instance.app)?.output;
    if (!options?.follow) return Readable.from(output === undefined ? [] : [output]);
    const follow = new PassThrough();
    if (output !== undefined) follow.write(output);
    this.follows.push(follow);
    return follow;
  }

  async *events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    const queue: RuntimeEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (e: RuntimeEvent) => {
      queue.push(e);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.listeners.add(push);
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) yield next;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.listeners.delete(push);
      signal.removeEventListener('abort', onAbort);
    }
  }

  // Changes behind berth's back (docker start / stop / kill / rm by someone else).

  /** `docker create` + `docker start` by another process, with berth's labels (e.g. the previous gateway). */
  async outsideCreate(spec: AppSpec, index = 0, running = true): Promise<string> {
    const wasDown = this.engineDown;
    this.engineDown = false;
    const instance = await this.ensure(spec, index);
    this.calls.ensure--;
    if (running) await this.outsideStart(instance.id);
    this.engineDown = wasDown;
    return instance.id;
  }

  async outsideStart(id: string): Promise<void> {
    const c = this.get(id);
    await this.run(c, this.behaviour.get(c.instance.app) ?? {});
  }

  /**
   * A container made outside berth under berth's labels with powers over the host its spec does
   * not give (`--privileged`, `-v /:/host`): inspect and list tell them (Instance.hostPowers), as
   * the Docker runtime does from the inspect document.
   */
  outsidePowers(id: string, powers: string[]): void {
    this.get(id).instance.hostPowers = [...powers];
  }

  /** `docker pause` (or `docker unpause`) by someone else. */
  async outsidePause(id: string): Promise<void> {
    const c = this.get(id);
    c.instance.state = 'paused';
    this.emit('pause', c);
  }

  async outsideUnpause(id: string): Promise<void> {
    const c = this.get(id);
    c.instance.state = 'running';
    this.emit('unpause', c);
  }

  /** Readiness probes the app's containers answered so far. */
  probes(app: string): number {
    return [...this.containers.values()].filter((c) => c.instance.app === app).reduce((n, c) => n + c.probes, 0);
  }

  /** Readiness probes (health checks among them) one container answered so far, over all its runs. */
  probesOf(id: string): number {
    return this.get(id).probes;
  }

  async outsideStop(id: string): Promise<void> {
    await this.halt(this.get(id), 0, ['die', 'stop']);
  }

  /** `docker kill` or a crash: a die event with the exit code. */
  async outsideKill(id: string, exitCode = 137): Promise<void> {
    await this.halt(this.get(id), exitCode, ['die']);
  }

  /** The kernel's OOM killer: an oom event, then a die with 137, and inspect says OOMKilled. */
  async oomKill(id: string): Promise<void> {
    const c = this.get(id);
    c.instance.oomKilled = true;
    this.emit('oom', c);
    await this.halt(c, 137, ['die']);
  }

  /**
   * `docker network disconnect` of a running container: it runs on, but its published
   * port is gone (no address, nothing listens there), and a 'network' event names the
   * container and its app, as the Docker runtime's does (managed-network-events.ts).
   */
  async outsideDisconnect(id: string): Promise<void> {
    const c = this.get(id);
    const server = c.server;
    await closeServer(server);
    if (c.server !== server) return; // started again meanwhile: its new port stands
    c.server = undefined;
    c.instance.address = undefined;
    if (!this.eventsLost) for (const listener of this.listeners) listener({ kind: 'network', app: c.instance.app, instanceId: id, time: new Date() });
  }

  /**
   * `docker service update` of a Swarm service berth runs: it runs on, changed
   * (Instance.outdated), and a 'changed' event names it, as the Swarm runtime's
   * task poll does (task-diff.ts).
   */
  outsideEdit(id: string): void {
    const c = this.get(id);
    c.instance.outdated = true;
    if (!this.eventsLost) for (const listener of this.listeners) listener({ kind: 'changed', app: c.instance.app, instanceId: id, time: new Date() });
  }

  /** `docker stop` / `docker kill` of a running container: the engine's kill event (with the signal), then its exit with `exitCode`. */
  async outsideSignal(id: string, signal: number, exitCode: number): Promise<void> {
    const c = this.get(id);
    this.signal(c, signal);
    await this.halt(c, exitCode, ['die', 'stop']);
  }

  /** `docker restart`: SIGTERM (exit 143, die and stop events), then a new run at a new port (a start event), ready as its behaviour says. */
  async outsideRestart(id: string): Promise<void> {
    const c = this.get(id);
    const oldPort = c.instance.address?.port;
    await this.halt(c, 143, ['die', 'stop']);
    // A restarted container is published on a new port, as the engine's is: the old one is held while the
    // new server listens, where the kernel could hand the port just freed out again (a flaky "new address").
    const hold = oldPort === undefined ? undefined : await holdPort(oldPort);
    try {
      await this.run(c, this.behaviour.get(c.instance.app) ?? {});
    } finally {
      await closeServer(hold);
    }
  }

  async outsideRemove(id: string): Promise<void> {
    await this.destroy(this.get(id));
  }

  /** Containers running now, of one app or all. */
  running(app?: string): Instance[] {
    return [...this.containers.values()].map((c) => c.instance).filter((i) => i.state === 'running' && (!app || i.app === app));
  }

  /** Closed: a start still under way (the activator's work outlives a test by a few turns) opens no server left listening. */
  private closed = false;

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.containers.values()) {
      clearTimeout(c.exitTimer);
      await closeServer(c.server);
    }
    this.listeners.clear();
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new NotFoundError(`no container ${id}`);
    return c;
  }

  private async run(c: FakeContainer, b: FakeBehaviour): Promise<void> {
    // Running with its port gone (outsideDisconnect): started again, it is joined back and published anew, as the Docker runtime does.
    if (c.instance.state === 'running' && !c.instance.address) return this.republish(c);
    if (c.instance.state === 'running' || this.closed) return;
    if (c.instance.state === 'paused') {
      c.instance.state = 'running';
      this.emit('unpause', c);
      return;
    }
    c.readyAtMs = b.neverReady || this.badImages.has(c.image) ? Infinity : performance.now() + (b.readyAfterMs ?? 0);
    c.runs = (c.runs ?? 0) + 1;
    // Counted from its first healthy answer, so the readiness check always sees it well first, however slow the machine.
    const sickFor = b.sickAfterMs !== undefined && c.runs === 1 ? b.sickAfterMs : undefined;
    let sickAtMs = Infinity;
    const server = createServer((req, res) => {
      if (req.headers['user-agent'] === 'berth-readiness') c.probes++;
      if (b.quietStreamPath !== undefined && req.url === b.quietStreamPath) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        return;
      }
      const now = performance.now();
      res.statusCode = now >= sickAtMs ? 500 : now >= c.readyAtMs ? 200 : 503;
      if (res.statusCode === 200 && sickFor !== undefined && sickAtMs === Infinity) sickAtMs = now + sickFor;
      res.end('fake');
    });
    if (!(await this.listen(server, c))) return;
    const port = (server.address() as { port: number }).port;
    c.server = server;
    c.instance.state = 'running';
    c.instance.address = { host: '127.0.0.1', port };
    // After the run before it ended (see halt: that end may be stamped a millisecond ahead).
    c.instance.startedAt = new Date(Math.max(Date.now(), (c.instance.finishedAt?.getTime() ?? 0) + 1));
    c.instance.exitCode = undefined;
    c.instance.oomKilled = undefined;
    c.instance.finishedAt = undefined;
    c.instance.engineError = undefined;
    if (b.exitAfterMs !== undefined) c.exitTimer = setTimeout(() => void this.halt(c, b.exitCode ?? 1, ['die']), b.exitAfterMs);
    this.emit('start', c);
  }

  /**
   * Listens for `c` and makes `server` its own; false (the server closed again) when the container was
   * removed, the engine closed, or another run of it bound first: no server is left listening unknown.
   */
  private async listen(server: Server, c: FakeContainer): Promise<boolean> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // c.server set meanwhile: a second run of the same container (an outside restart beside a start) bound first.
    // Claimed here, in the tick of the check: the caller resumes turns later, when another run may have passed it too.
    if (!this.closed && this.containers.get(c.instance.id) === c && c.server === undefined) {
      c.server = server;
      return true;
    }
    await closeServer(server);
    return false;
  }

  private async republish(c: FakeContainer): Promise<void> {
    const server = createServer((req, res) => {
      if (req.headers['user-agent'] === 'berth-readiness') c.probes++;
      res.statusCode = performance.now() >= c.readyAtMs ? 200 : 503;
      res.end('fake');
    });
    if (!(await this.listen(server, c))) return;
    c.server = server;
    c.instance.address = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
  }

  private async halt(c: FakeContainer, exitCode: number, kinds: RuntimeEventKind[]): Promise<void> {
    clearTimeout(c.exitTimer);
    if (c.instance.state !== 'running' && c.instance.state !== 'paused') return;
    const server = c.server;
    await closeServer(server);
    // Another halt of it ended meanwhile and a start ran it again (c.server is that run's): this halt is over.
    // Clearing it here left that run's server listening for good, and a test's process never exited.
    if (c.server !== server) return;
    c.server = undefined;
    c.instance.state = 'exited';
    c.instance.address = undefined;
    c.instance.exitCode = exitCode;
    // Stamped after the run it ends began: the engine's times have nanoseconds, the fake's milliseconds, and an exit
    // stamped in its start's millisecond reads as a late event of the run before (stale, ignored): a kill right after
    // a fast start went unseen now and then (activator-failures' crash loop test, under load).
    const at = new Date(Math.max(Date.now(), (c.instance.startedAt?.getTime() ?? 0) + 1));
    c.instance.finishedAt = at;
    for (const kind of kinds) this.emit(kind, c, kind === 'die' ? exitCode : undefined, at);
  }

  private async destroy(c: FakeContainer): Promise<void> {
    await this.halt(c, 137, ['die']);
    this.containers.delete(c.instance.id);
    this.emit('destroy', c);
  }

  private emit(kind: RuntimeEventKind, c: FakeContainer, exitCode?: number, time = new Date()): void {
    this.deliver({ kind, app: c.instance.app, instanceId: c.instance.id, time, ...(exitCode === undefined ? {} : { exitCode }) });
  }

  private deliver(event: RuntimeEvent): void {
    if (this.eventsLost) return;
    if (this.heldKinds.has(event.kind)) this.held.push(event);
    else for (const listener of this.listeners) listener(event);
  }

  /** Delivers the held events, late, in their order and with the time they happened. */
  releaseHeldEvents(): void {
    const held = this.held;
    this.held = [];
    for (const event of held) for (const listener of this.listeners) listener(event);
  }
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A server listening on `port` of 127.0.0.1 so nothing else gets it; undefined when it is taken already. */
function holdPort(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
