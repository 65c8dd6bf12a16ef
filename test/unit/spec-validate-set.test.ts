import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PolicyError, SpecError } from '../../src/errors.js';
import { imageMatches } from '../../src/spec/image-pattern.js';
import { parseSpecObject } from '../../src/spec/parse.js';
import { isUnder } from '../../src/spec/policy.js';
import type { AppSpec, DockerPolicy } from '../../src/spec/types.js';
import { validateAppSet } from '../../src/spec/validate-set.js';

function app(name: string, extra: Record<string, unknown> = {}): AppSpec {
  return parseSpecObject({ apiVersion: 'berth/v1', name, image: 'berth-example/hello:latest', port: 8080, ...extra });
}

function problemsOf(specs: AppSpec[], policy?: DockerPolicy): string[] {
  try {
    validateAppSet(specs, policy);
  } catch (err) {
    assert.ok(err instanceof SpecError || err instanceof PolicyError, `expected SpecError or PolicyError, got ${String(err)}`);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('the set was accepted');
}

const openPolicy: DockerPolicy = { images: [], networks: ['traefiknet'], bindMountRoots: ['/srv/berth'], allowPrivileged: false, capabilities: [], allowHostNetwork: false, allowHostPid: false };

describe('validateAppSet: names', () => {
  it('accepts distinct apps', () => {
    assert.doesNotThrow(() => validateAppSet([app('hello'), app('world')], openPolicy));
    assert.doesNotThrow(() => validateAppSet([]));
  });

  it('refuses a duplicate name, once per repeat', () => {
    assert.deepEqual(problemsOf([app('hello'), app('world'), app('hello'), app('hello')]), [
      'apps[2].name: "hello" is also the name of apps[0]; app names must be unique',
      'apps[3].name: "hello" is also the name of apps[0]; app names must be unique',
    ]);
  });

  for (const name of ['berth', 'api', 'admin', 'health', 'healthz', 'metrics', 'v1']) {
    it(`refuses the reserved name ${name}`, () => {
      assert.deepEqual(problemsOf([app('ok'), app(name)]), [
        `apps[1].name: "${name}" is reserved: berth uses it for its own paths and hosts`,
      ]);
    });
  }
});

describe('validateAppSet: route collisions', () => {
  it('refuses two apps with the same path prefix', () => {
    assert.deepEqual(problemsOf([app('a', { routes: [{ path: '/shared' }] }), app('b', { routes: [{ path: '/shared/' }] })]), [
      'apps[1].routes[0]: app "b" has the same route (host any, path /shared/) as app "a" (its routes[0])',
    ]);
  });

  it('refuses two apps with the same exact host and no path', () => {
    const problems = problemsOf([app('a', { routes: [{ host: 'x.example.com' }] }), app('b', { routes: [{ host: 'X.example.com', path: '/' }] })]);
    assert.deepEqual(problems, ['apps[1].routes[0]: app "b" has the same route (host x.example.com, path /) as app "a" (its routes[0])']);
  });

  it('refuses an exact host that another app serves through its wildcard', () => {
    const problems = problemsOf([app('a', { routes: [{ host: '*.apps.example.com' }] }), app('b', { routes: [{ host: 'a.apps.example.com' }] })]);
    assert.deepEqual(problems, [
      'apps[1].routes[0]: app "b" has the same route (host a.apps.example.com, path /) as app "a" (its routes[0])',
    ]);
  });

  it('names the wildcard a colliding route came from', () => {
    const problems = problemsOf([app('a', { routes: [{ host: 'a.apps.example.com' }] }), app('a2', { routes: [{ host: '*.apps.example.com' }] }), app('x', { routes: [{ host: '*.example.com', path: '/p' }] }), app('y', { routes: [{ host: 'x.example.com', path: '/p/' }] })]);
    assert.deepEqual(problems, [
      'apps[3].routes[0]: app "y" has the same route (host x.example.com, path /p/) as app "x" (its routes[0])',
    ]);
    const reverse = problemsOf([app('y', { routes: [{ host: 'x.example.com', path: '/p/' }] }), app('x', { routes: [{ host: '*.example.com', path: '/p' }] })]);
    assert.deepEqual(reverse, [
      'apps[1].routes[0]: app "x" has the same route (host x.example.com (from *.example.com), path /p/) as app "y" (its routes[0])',
    ]);
  });

  it('lets many apps share one wildcard, since each serves its own name under it', () => {
    assert.doesNotThrow(() =>
      validateAppSet([app('a', { routes: [{ host: '*.apps.example.com' }] }), app('b', { routes: [{ host: '*.apps.example.com' }] })]),
    );
  });

  it('allows the same path on different hosts and nested prefixes', () => {
    assert.doesNotThrow(() =>
      validateAppSet([
        app('a', { routes: [{ host: 'a.example.com', path: '/x' }] }),
        app('b', { routes: [{ host: 'b.example.com', path: '/x' }] }),
        app('c', { routes: [{ path: '/x' }] }),
        app('d', { routes: [{ path: '/x/y' }] }),
      ]),
    );
  });

  it('reports a duplicate name without also reporting its default route', () => {
    assert.equal(problemsOf([app('hello'), app('hello')]).length, 1);
  });
});

describe('validateAppSet: Docker policy', () => {
  // Bind-mount sources are resolved on the real filesystem, so the roots are real directories.
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'berth-policy-')));
  for (const dir of ['srv/berth/b', 'srv/berth/ok', 'srv/berthday', 'var/lib/apps', 'etc']) mkdirSync(join(base, dir), { recursive: true });
  after(() => rmSync(base, { recursive: true, force: true }));
  const policy: DockerPolicy = {
    images: ['registry.example.com/team/*', 'berth-example/*', 'busybox:latest'],
    networks: ['traefiknet'],
    bindMountRoots: [`${base}/srv/berth`, `${base}/var/lib/apps/`],
    allowPrivileged: false,
    capabilities: ['NET_BIND_SERVICE'],
    allowHostNetwork: false,
    allowHostPid: false,
  };

  it('refuses what only the policy forbids with a PolicyError naming each field', () => {
    const risky = app('risky', { security: { privileged: true, capAdd: ['NET_BIND_SERVICE', 'SYS_ADMIN'], hostNetwork: true, hostPid: true } });
    let caught: unknown;
    try {
      validateAppSet([risky], policy);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof PolicyError, `expected PolicyError, got ${String(caught)}`);
    assert.deepEqual(
      caught.problems.map((p) => p.path),
      ['apps[0].security.privileged', 'apps[0].security.capAdd[1]', 'apps[0].security.hostNetwork', 'apps[0].security.hostPid'],
    );
  });

  it('allows what the policy allows', () => {
    const open: DockerPolicy = { ...policy, allowPrivileged: true, capabilities: ['SYS_ADMIN'], allowHostNetwork: true, allowHostPid: true };
    assert.doesNotThrow(() => validateAppSet([app('risky', { security: { privileged: true, capAdd: ['SYS_ADMIN'], hostNetwork: true, hostPid: true } })], open));
  });

  it('reads a capability in any spelling the engine takes as the same: CAP_ prefix, lower case', () => {
    const refused = (policyCaps: string[], capAdd: string[]): string[] => {
      try {
        validateAppSet([app('c', { security: { privileged: false, capAdd, hostNetwork: false, hostPid: false } })], { ...policy, capabilities: policyCaps });
        return [];
      } catch (err) {
        assert.ok(err instanceof PolicyError, String(err));
        return err.problems.map((p) => p.path);
      }
    };
    assert.deepEqual(refused(['cap_net_admin'], ['NET_ADMIN']), []);
    assert.deepEqual(refused(['NET_ADMIN'], ['CAP_NET_ADMIN']), []);
    assert.deepEqual(refused(['NET_ADMIN'], ['CAP_SYS_ADMIN']), ['apps[0].security.capAdd[0]']);
    // ALL is every capability: allowed only by name.
    assert.deepEqual(refused(['NET_ADMIN', 'SYS_ADMIN'], ['ALL']), ['apps[0].security.capAdd[0]']);
    assert.deepEqual(refused(['all'], ['ALL']), []);
  });

  it('accepts what the policy allows', () => {
    assert.doesNotThrow(() =>
      validateAppSet(
        [
          app('a', { image: 'registry.example.com/team/app:1.2', network: 'traefiknet' }),
          app('b', { image: 'busybox', mounts: [{ source: `${base}/srv/berth/b`, target: '/data' }, { source: `${base}/var/lib/apps`, target: '/apps' }] }),
        ],
        policy,
      ),
    );
  });

  it('refuses an image no pattern allows', () => {
    assert.deepEqual(problemsOf([app('a', { image: 'evil/miner:latest' })], policy), [
      'apps[0].image: image "evil/miner:latest" of app "a" is not allowed by policy.images (registry.example.com/team/*, berth-example/*, busybox:latest)',
    ]);
  });

  it('refuses resources above policy.maxResources, naming each field; at the bound or unset is fine', () => {
    const bounded: DockerPolicy = { ...policy, maxResources: { memoryBytes: 2 ** 30, cpus: 2, pids: 1024 } };
    assert.deepEqual(problemsOf([app('a', { resources: { memory: '1t', cpus: 1024, pids: 2 ** 40 } })], bounded), [
      'apps[0].resources.memory: resources.memory 1t of app "a" is above policy.maxResources.memory (1g)',
      'apps[0].resources.cpus: resources.cpus 1024 of app "a" is above policy.maxResources.cpus (2)',
      'apps[0].resources.pids: resources.pids 1099511627776 of app "a" is above policy.maxResources.pids (1024)',
    ]);
    assert.throws(() => validateAppSet([app('a', { resources: { memory: 2 ** 30 + 1 } })], bounded), PolicyError);
    assert.doesNotThrow(() => validateAppSet([app('a', { resources: { memory: '1g', cpus: 2, pids: 1024 } }), app('b')], bounded));
    // No bound: as before, the spec's own limits stand.
    assert.doesNotThrow(() => validateAppSet([app('a', { resources: { memory: '1t' } })], policy));
  });

  it('refuses a stored image reference the engine reads as an image ID, saying so, even where a pattern names it', () => {
    // Specs are parsed before this check, so build the stored spec as an older berth kept it.
    const stored = { ...app('a'), image: 'cafe' };
    assert.deepEqual(problemsOf([stored], { ...policy, images: ['cafe', '*'] }), [
      'apps[0].image: image "cafe" of app "a": the engine reads a bare run of hex digits as the ID of whichever local image it begins, when no image has that name; add the tag: "cafe:latest"',
    ]);
  });

  it('skips the image check when policy.images is empty (the runtime then checks the image is local)', () => {
    assert.doesNotThrow(() => validateAppSet([app('a', { image: 'anything/at:all' })], { ...policy, images: [] }));
  });

  it('refuses a network not in policy.networks', () => {
    assert.deepEqual(problemsOf([app('a', { network: 'host' })], policy), [
      'apps[0].network: network "host" of app "a" is not in policy.networks (traefiknet)',
    ]);
    assert.deepEqual(problemsOf([app('a', { network: 'traefiknet' })], { ...policy, networks: [] }), [
      'apps[0].network: network "traefiknet" of app "a" is not in policy.networks (none allowed)',
    ]);
  });

  it('refuses mounts outside bindMountRoots, including ones that only look inside', () => {
    const spec = app('a', {
      mounts: [
        { source: '/etc', target: '/a' },
        { source: `${base}/srv/berthday`, target: '/b' },
        { source: `${base}/srv/berth/ok`, target: '/c' },
      ],
    });
    // The schema refuses `..` outright; policy checks resolve paths anyway, in case a spec bypassed it.
    const forged: AppSpec = { ...spec, mounts: [...spec.mounts, { source: `${base}/srv/berth/../../etc`, target: '/d', readOnly: false }] };
    const roots = `(${base}/srv/berth, ${base}/var/lib/apps/)`;
    assert.deepEqual(problemsOf([forged], policy), [
      `apps[0].mounts[0].source: "/etc" of app "a" is not under policy.bindMountRoots ${roots}`,
      `apps[0].mounts[1].source: "${base}/srv/berthday" of app "a" is not under policy.bindMountRoots ${roots}`,
      `apps[0].mounts[3].source: "${base}/srv/berth/../../etc" of app "a" is not under policy.bindMountRoots ${roots}`,
    ]);
  });

  it('follows symbolic links: a link inside a root that leads outside is refused, one that stays inside is allowed', () => {
    symlinkSync('/', join(base, 'srv/berth/to-root'));
    symlinkSync(join(base, 'etc'), join(base, 'srv/berth/to-etc'));
    symlinkSync(join(base, 'srv/berth/ok'), join(base, 'srv/berth/to-ok'));
    const roots = `(${base}/srv/berth, ${base}/var/lib/apps/)`;
    assert.deepEqual(
      problemsOf([app('a', { mounts: [{ source: `${base}/srv/berth/to-root/etc`, target: '/a' }, { source: `${base}/srv/berth/to-etc`, target: '/b' }, { source: `${base}/srv/berth/to-ok`, target: '/c' }] })], policy),
      [
        `apps[0].mounts[0].source: "${base}/srv/berth/to-root/etc" of app "a" is not under policy.bindMountRoots ${roots} (it resolves to "/etc")`,
        `apps[0].mounts[1].source: "${base}/srv/berth/to-etc" of app "a" is not under policy.bindMountRoots ${roots} (it resolves to "${base}/etc")`,
      ],
    );
  });

  it('refuses a source that does not exist (inside a root), without telling about paths outside the roots', () => {
    const roots = `(${base}/srv/berth, ${base}/var/lib/apps/)`;
    assert.deepEqual(problemsOf([app('a', { mounts: [{ source: `${base}/srv/berth/missing`, target: '/a' }, { source: '/no/such/dir', target: '/b' }] })], policy), [
      `apps[0].mounts[0].source: "${base}/srv/berth/missing" of app "a" does not exist on the gateway's host`,
      `apps[0].mounts[1].source: "/no/such/dir" of app "a" is not under policy.bindMountRoots ${roots}`,
    ]);
  });

  it('refuses every mount when no roots are configured', () => {
    assert.deepEqual(problemsOf([app('a', { mounts: [{ source: `${base}/srv/berth/ok`, target: '/x' }] })], { ...policy, bindMountRoots: [], allowPrivileged: false, capabilities: [], allowHostNetwork: false, allowHostPid: false }), [
      `apps[0].mounts[0].source: "${base}/srv/berth/ok" of app "a" is not under policy.bindMountRoots (none allowed)`,
    ]);
  });

  it('checks the policy only for the apps named in policyFor (an apply\'s own apps)', () => {
    const stale = app('old', { mounts: [{ source: `${base}/srv/berth/vanished`, target: '/x' }] });
    assert.doesNotThrow(() => validateAppSet([stale, app('new')], policy, undefined, undefined, new Set(['new'])));
    assert.throws(() => validateAppSet([stale, app('new')], policy, undefined, undefined, new Set(['old'])), PolicyError);
  });

  it('skips policy checks when no policy is given', () => {
    assert.doesNotThrow(() => validateAppSet([app('a', { image: 'evil/miner', network: 'host', mounts: [{ source: '/etc', target: '/x' }] })]));
  });

  it('lists every problem of the set together', () => {
    const problems = problemsOf([app('api', { image: 'evil/x' }), app('b', { network: 'host' }), app('b')], policy);
    assert.deepEqual(problems.map((p) => p.slice(0, p.indexOf(':'))), ['apps[0].name', 'apps[2].name', 'apps[0].image', 'apps[1].network']);
  });
});

describe('imageMatches', () => {
  const cases: Array<[string, string, boolean]> = [
    ['berth-example/*', 'berth-example/hello:latest', true],
    ['berth-example/*', 'berth-example/hello', true],
    ['berth-example/*', 'berth-example/sub/hello:1', false],
    ['berth-example/**', 'berth-example/sub/hello:1', true],
    ['berth-example/*', 'berth-examples/hello', false],
    ['busybox:latest', 'busybox', true],
    ['busybox:latest', 'busybox:1.36', false],
    // One image, two spellings: a pattern without a tag names the :latest Docker reads it as.
    ['busybox', 'busybox:latest', true],
    ['busybox', 'busybox:1.36', false],
    ['busybox', 'busybox@sha256:abc', false],
    ['team/app', 'team/app:latest', true],
    // Docker Hub with or without its registry name, either side.
    ['docker.io/library/nginx:*', 'nginx:1', true],
    ['docker.io/library/nginx:*', 'nginx', true],
    ['nginx:*', 'docker.io/library/nginx:1', true],
    ['nginx:*', 'index.docker.io/library/nginx:1', true],
    ['docker.io/team/*', 'team/app:2', true],
    ['team/*', 'docker.io/team/app', true],
    ['docker.io/library/nginx:*', 'nginxx:1', false],
    ['docker.io/library/nginx:*', 'evil.io/library/nginx:1', false],
    ['nginx:*', 'evil.io/library/nginx:1', false],
    ['nginx:*', 'docker.io/evil/nginx:1', false],
    ['docker.io/library/nginx:*', 'team/nginx:1', false],
    ['docker.io/*', 'team/app', false],
    ['registry.example.com:5000/team/*', 'registry.example.com:5000/team/app@sha256:abc', true],
    ['registry.example.com/team/*', 'registryXexample.com/team/app', false],
    ['*', 'busybox', true],
    // library/busybox is Docker Hub's busybox: what allows one allows the other.
    ['*', 'library/busybox', true],
    ['library/*', 'nginx:1.27', true],
    ['docker.io/library/*', 'library/nginx', true],
    ['*', 'localhost/nginx', false],
    ['*', 'localhost:5000/nginx', false],
    // A pattern is never read shorter than it is written: cut to its last part, docker.io/** was ** and allowed
    // every registry's images.
    ['docker.io/**', 'evil.example.com/x/y:1', false],
    ['docker.io/**', 'ghcr.io/team/app', false],
    ['docker.io/library/**', 'ghcr.io/team/app', false],
    ['index.docker.io/**', 'quay.io/x/y', false],
    ['docker.io/library/*', 'evil.example.com/nginx', false],
    ['docker.io/library/*', 'localhost:5000/nginx', false],
    ['docker.io/**', 'team/app:1', true],
    ['docker.io/**', 'nginx', true],
    ['index.docker.io/library/nginx', 'nginx', true],
    ['docker.io/library/**', 'busybox:1.36', true],
    ['docker.io/library/**', 'team/app', false],
    ['docker.io/*/app', 'team/app', true],
    ['docker.io/*/app', 'ghcr.io/app', false],
    // The engine would run whichever local image's ID these begin (a spec stored before they were refused).
    ['*', 'c6', false],
    ['*', `sha256:${'a'.repeat(12)}`, false],
    ['**', 'cafe', false],
    ['*', 'cafe:latest', true],
  ];
  for (const [pattern, image, expected] of cases) {
    it(`${expected ? 'matches' : 'does not match'} ${image} against ${pattern}`, () => assert.equal(imageMatches(pattern, image), expected));
  }
});

describe('isUnder', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/srv/berth', '/srv/berth', true],
    ['/srv/berth/a/b', '/srv/berth', true],
    ['/srv/berth/a', '/srv/berth/', true],
    ['/srv/berthday', '/srv/berth', false],
    ['/srv/berth/../etc', '/srv/berth', false],
    ['/srv', '/srv/berth', false],
    ['/anything', '/', true],
  ];
  for (const [source, root, expected] of cases) {
    it(`${source} ${expected ? 'is' : 'is not'} under ${root}`, () => assert.equal(isUnder(source, root), expected));
  }
});
