import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError } from '../../src/errors.js';
import { portFromImage, resolveImagePorts } from '../../src/gateway/image-ports.js';
import { exposedTcpPorts } from '../../src/runtime/docker/image.js';
import { parseSpecObject } from '../../src/spec/parse.js';
import { PORT_FROM_IMAGE } from '../../src/spec/types.js';

describe('exposedTcpPorts', () => {
  const cases: Array<[string, Record<string, unknown> | undefined, number[]]> = [
    ['none', undefined, []],
    ['empty', {}, []],
    ['one', { '8080/tcp': {} }, [8080]],
    ['udp left out', { '53/udp': {}, '80/tcp': {} }, [80]],
    ['a bare port is tcp', { '9000': {} }, [9000]],
    ['sorted, deduplicated', { '8443/tcp': {}, '80/tcp': {}, '80': {} }, [80, 8443]],
    ['garbage left out', { 'x/tcp': {}, '0/tcp': {}, '70000/tcp': {} }, []],
  ];
  for (const [name, exposed, want] of cases) it(name, () => assert.deepEqual(exposedTcpPorts(exposed), want));
});

describe('portFromImage', () => {
  const cases: Array<[string, number[] | undefined, number | RegExp]> = [
    ['the one exposed port', [8080], 8080],
    ['no exposed port', [], /image web:1 exposes no port; name the port .* in `port`/],
    ['several', [80, 443], /image web:1 exposes 2 ports \(80, 443\); name the port/],
    ['image not local', undefined, /image web:1 is not on the Docker host/],
  ];
  for (const [name, exposed, want] of cases) {
    it(name, () => {
      const got = portFromImage('web:1', exposed);
      if (typeof want === 'number') assert.deepEqual(got, { port: want });
      else assert.match('problem' in got ? got.problem : 'resolved', want);
    });
  }
});

describe('resolveImagePorts', () => {
  const spec = (name: string, image: string, port?: number) => parseSpecObject({ apiVersion: 'berth/v1', name, image, ...(port ? { port } : {}) });
  const runtime = (table: Record<string, number[]>) => {
    const asked: string[] = [];
    return { asked, imagePorts: async (image: string) => (asked.push(image), table[image]) };
  };

  it('keeps named ports, fills the others, inspects each image once', async () => {
    const rt = runtime({ 'a:1': [8080] });
    const specs = [spec('a', 'a:1'), spec('b', 'a:1'), spec('c', 'c:1', 3000)];
    assert.equal(specs[0]!.port, PORT_FROM_IMAGE);
    const out = await resolveImagePorts(specs, rt);
    assert.deepEqual(out.map((s) => s.port), [8080, 8080, 3000]);
    assert.deepEqual(rt.asked, ['a:1']);
  });

  it('refuses the set, naming every app it cannot resolve', async () => {
    const rt = runtime({ 'a:1': [80, 443], 'b:1': [] });
    await assert.rejects(resolveImagePorts([spec('a', 'a:1'), spec('b', 'b:1'), spec('c', 'c:1', 80)], rt), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.deepEqual(err.problems.map((p) => p.path), ['a.port', 'b.port']);
      assert.match(err.message, /exposes 2 ports \(80, 443\)/);
      return true;
    });
  });

  it('asks nothing when every port is named', async () => {
    const rt = runtime({});
    await resolveImagePorts([spec('c', 'c:1', 80)], rt);
    assert.deepEqual(rt.asked, []);
  });
});
