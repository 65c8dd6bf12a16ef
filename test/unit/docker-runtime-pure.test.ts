import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { resolveDockerEndpoint } from '../../src/runtime/docker/client.js';
import { mapDockerError } from '../../src/runtime/docker/errors.js';
import { toRuntimeEvent } from '../../src/runtime/docker/event-mapping.js';
import { publishedAddress, toInstance } from '../../src/runtime/docker/instance.js';
import { DockerStreamDemuxer } from '../../src/runtime/docker/log-demux.js';
import { killedAtStop } from '../../src/runtime/docker/stop.js';
import { watchEvents } from '../../src/runtime/docker/events.js';

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function demux(chunks: Buffer[]): Promise<string> {
  const out = Readable.from(chunks).pipe(new DockerStreamDemuxer());
  let text = '';
  for await (const c of out) text += String(c);
  return text;
}

describe('DockerStreamDemuxer', () => {
  it('joins stdout and stderr payloads in order, without headers', async () => {
    assert.equal(await demux([Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'é\n')])]), 'out\nerr\né\n');
  });

  it('handles frames split at every byte boundary', async () => {
    const all = Buffer.concat([frame(1, 'hello '), frame(2, 'world\n'), frame(1, '')]);
    const bytes = [...all].map((b) => Buffer.from([b]));
    assert.equal(await demux(bytes), 'hello world\n');
  });
});

describe('resolveDockerEndpoint', () => {
  it('defaults to the local socket', () => {
    assert.deepEqual(resolveDockerEndpoint(undefined, {}), { url: 'unix:///var/run/docker.sock', kind: 'unix', socketPath: '/var/run/docker.sock' });
  });

  it('honours DOCKER_HOST only when nothing is configured', () => {
    assert.equal(resolveDockerEndpoint(undefined, { DOCKER_HOST: 'tcp://10.0.0.5:2375' }).url, 'tcp://10.0.0.5:2375');
    assert.equal(resolveDockerEndpoint('unix:///run/d.sock', { DOCKER_HOST: 'tcp://10.0.0.5:2375' }).socketPath, '/run/d.sock');
  });

  it('parses tcp with and without scheme, TLS on 2376', () => {
    const e = resolveDockerEndpoint('tcp://docker.local:2375', {});
    assert.deepEqual([e.host, e.port, e.tls], ['docker.local', 2375, undefined]);
    assert.equal(resolveDockerEndpoint('docker.local:2375', {}).url, 'tcp://docker.local:2375');
    assert.deepEqual(resolveDockerEndpoint('tcp://h:2376', { DOCKER_CERT_PATH: '/certs' }).tls, { certPath: '/certs' });
  });

  it('refuses what it cannot dial', () => {
    assert.throws(() => resolveDockerEndpoint('ssh://user@host', {}), { code: 'config_invalid' });
  });
});

describe('mapDockerError', () => {
  const url = 'unix:///var/run/docker.sock';
  it('maps engine statuses and socket errors to typed errors', () => {
    assert.equal(mapDockerError({ statusCode: 404, json: { message: 'No such container: x' } }, 'inspecting x', url).code, 'not_found');
    assert.equal(mapDockerError({ statusCode: 409, json: { message: 'name in use' } }, 'creating x', url).code, 'conflict');
    const e500 = mapDockerError({ statusCode: 500, json: { message: 'boom' } }, 'starting x', url);
    assert.equal(e500.code, 'runtime_error');
    assert.match(e500.message, /^starting x: .*boom/);
    const down = mapDockerError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), 'listing', url);
    assert.match(down.message, /Docker engine at unix:\/\/\/var\/run\/docker.sock does not answer.*ensure-docker\.sh/);
  });
});

describe('toRuntimeEvent', () => {
  const actor = (attrs: Record<string, string> = {}) => ({ ID: 'abc', Attributes: { 'berth.managed': 'true', 'berth.app': 'hello', ...attrs } });
  it('maps lifecycle actions, die with its exit code, health from the action', () => {
    const t = 1_700_000_000_123_456_789;
    assert.deepEqual(toRuntimeEvent({ Type: 'container', Action: 'die', Actor: actor({ exitCode: '137' }), timeNano: t }), {
      kind: 'die', app: 'hello', instanceId: 'abc', time: new Date(1_700_000_000_123), exitCode: 137,
    });
    assert.equal(toRuntimeEvent({ Type: 'container', Action: 'start', Actor: actor(), time: 1 })?.kind, 'start');
    assert.equal(toRuntimeEvent({ Type: 'container', Action: 'oom', Actor: actor(), time: 1 })?.kind, 'oom');
    assert.equal(toRuntimeEvent({ Type: 'container', Action: 'health_status: unhealthy', Actor: actor(), time: 1 })?.health, 'unhealthy');
  });

  it('ignores other actions and containers that are not berth-managed', () => {
    assert.equal(toRuntimeEvent({ Type: 'container', Action: 'exec_start: sh', Actor: actor(), time: 1 }), undefined);
    assert.equal(toRuntimeEvent({ Type: 'container', Action: 'start', Actor: { ID: 'x', Attributes: {} }, time: 1 }), undefined);
    assert.equal(toRuntimeEvent({ Type: 'network', Action: 'connect', Actor: actor(), time: 1 }), undefined);
  });
});

describe('toInstance', () => {
  const info = (state: string, ports: Record<string, Array<{ HostIp: string; HostPort: string }>>) =>
    ({
      Id: 'abc',
      Name: '/berth-hello-1',
      State: { Status: state, ExitCode: 0, StartedAt: '2024-01-01T00:00:00Z' },
      Config: { Labels: { 'berth.managed': 'true', 'berth.app': 'hello', 'berth.index': '1', 'berth.spec-hash': 'h' } },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
      NetworkSettings: { Ports: ports },
    }) as unknown as Docker.ContainerInspectInfo;

  it('reads the 127.0.0.1 binding even when an IPv6 one is listed first, and ignores unbound EXPOSEd ports', () => {
    const i = info('running', {
      '80/tcp': [],
      '8080/tcp': [
        { HostIp: '::', HostPort: '49001' },
        { HostIp: '127.0.0.1', HostPort: '49002' },
      ],
    });
    assert.deepEqual(publishedAddress(i), { host: '127.0.0.1', port: 49002 });
    const inst = toInstance(i);
    assert.deepEqual([inst.name, inst.app, inst.index, inst.specHash, inst.state], ['berth-hello-1', 'hello', 1, 'h', 'running']);
    assert.deepEqual(inst.address, { host: '127.0.0.1', port: 49002 });
  });

  it('gives no address when not running, and the exit code when exited', () => {
    const inst = toInstance(info('exited', {}));
    assert.equal(inst.address, undefined);
    assert.equal(inst.exitCode, 0);
    assert.equal(inst.oomKilled, undefined);
  });

  it('says when the kernel killed it for running out of memory', () => {
    const i = info('exited', {});
    Object.assign(i.State, { ExitCode: 137, OOMKilled: true });
    assert.equal(toInstance(i).oomKilled, true);
  });

  it('keeps when it exited and why the engine could not run it, for a gateway that finds it so (adoptedExit)', () => {
    const i = info('exited', {});
    Object.assign(i.State, { ExitCode: 127, FinishedAt: '2026-01-01T10:00:00.5Z', Error: 'exec: "/app": no such file' });
    const inst = toInstance(i);
    assert.equal(inst.finishedAt?.toISOString(), '2026-01-01T10:00:00.500Z');
    assert.equal(inst.engineError, 'exec: "/app": no such file');
    // A start the engine refused: the container stays `created`, with the engine's error.
    const refused = info('created', {});
    Object.assign(refused.State, { ExitCode: 127, FinishedAt: '0001-01-01T00:00:00Z', StartedAt: '0001-01-01T00:00:00Z', Error: 'exec: "/app": no such file' });
    assert.deepEqual([toInstance(refused).state, toInstance(refused).engineError, toInstance(refused).exitCode], ['created', 'exec: "/app": no such file', undefined]);
    const running = info('running', {});
    Object.assign(running.State, { FinishedAt: '0001-01-01T00:00:00Z', Error: '' });
    assert.deepEqual([toInstance(running).finishedAt, toInstance(running).engineError], [undefined, undefined]);
  });
});

describe('watchEvents', () => {
  const line = (id: string, action: string, timeNano: number) =>
    JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: { 'berth.managed': 'true', 'berth.app': 'a' } }, timeNano }) + '\n';

  it('reopens a closed stream from the last event and skips what the replay repeats', async () => {
    const s = 1_700_000_000;
    const calls: Array<{ since?: number }> = [];
    const streams = [
      // The first connection delivers two events, split mid-line, then the engine goes away.
      () => Readable.from([line('c1', 'start', s * 1e9 + 5).slice(0, 20), line('c1', 'start', s * 1e9 + 5).slice(20) + line('c1', 'die', s * 1e9 + 9)]),
      // The second replays from the whole second (both again) plus one new event, then stays open.
      () => {
        const r = new Readable({ read() {} });
        r.push(line('c1', 'start', s * 1e9 + 5) + line('c1', 'die', s * 1e9 + 9) + line('c1', 'destroy', s * 1e9 + 20));
        return r;
      },
    ];
    const ctx = {
      endpoint: { url: 'unix:///fake.sock', kind: 'unix' as const },
      addresses: { publishHost: '127.0.0.1', dialHost: '127.0.0.1' },
      extraLabels: {},
      allowPull: false,
      docker: () =>
        ({
          getEvents: async (opts: { since?: number; abortSignal: AbortSignal }) => {
            calls.push({ since: opts.since });
            const stream = streams[calls.length - 1]!();
            opts.abortSignal.addEventListener('abort', () => stream.destroy(new Error('aborted')));
            return stream;
          },
        }) as unknown as Docker,
    };
    const errors: number[] = [];
    const ac = new AbortController();
    const kinds: string[] = [];
    for await (const ev of watchEvents(ctx, ac.signal, (_err, retryMs) => errors.push(retryMs))) {
      kinds.push(ev.kind);
      if (kinds.length === 3) ac.abort();
    }
    assert.deepEqual(kinds, ['start', 'die', 'destroy']);
    assert.deepEqual(calls, [{ since: undefined }, { since: s }]);
    assert.deepEqual(errors, [250]);
  });
});

describe('killedAtStop', () => {
  it('is a kill only when the stop took the whole wait and the container ended with 137, not by the OOM killer', () => {
    assert.equal(killedAtStop(10_050, 10, { ExitCode: 137 }), true);
    assert.equal(killedAtStop(10_050, 10, { ExitCode: 143 }), false, 'exited on SIGTERM, late');
    assert.equal(killedAtStop(10_050, 10, { ExitCode: 137, OOMKilled: true }), false);
    assert.equal(killedAtStop(900, 1.5, { ExitCode: 137 }), false, 'quicker than the wait: the app died by itself');
    assert.equal(killedAtStop(10_050, 10, undefined), false);
  });
});
