import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SpecError } from '../../src/errors.js';
import { dependents, dependsOnIssues, wakeOrder } from '../../src/spec/depends-on.js';
import { parseSpecObject } from '../../src/spec/parse.js';
import { formatPath } from '../../src/spec/path.js';
import type { AppSpec } from '../../src/spec/types.js';
import { validateAppSet } from '../../src/spec/validate-set.js';

function app(name: string, dependsOn: string[] = []): AppSpec {
  return parseSpecObject({ apiVersion: 'berth/v1', name, image: 'berth-example/hello:latest', port: 8080, dependsOn });
}

/** `path: message` of every dependsOn problem of the set. */
function problems(specs: AppSpec[]): string[] {
  return dependsOnIssues(specs).map((i) => `${formatPath(i.path)}: ${i.message}`);
}

function byName(specs: AppSpec[]): Map<string, AppSpec> {
  return new Map(specs.map((s) => [s.name, s]));
}

describe('dependsOn validation', () => {
  it('accepts dependencies on apps of the set, in any order of declaration', () => {
    assert.deepEqual(problems([app('web', ['api', 'db']), app('api', ['db']), app('db')]), []);
    assert.doesNotThrow(() => validateAppSet([app('web', ['db']), app('db')]));
  });

  it('names the missing app', () => {
    assert.deepEqual(problems([app('web', ['db', 'cache']), app('db')]), [
      'apps[0].dependsOn[1]: app "web" depends on "cache", which is not a declared app',
    ]);
  });

  it('refuses an app depending on itself', () => {
    assert.deepEqual(problems([app('a', ['a'])]), ['apps[0].dependsOn[0]: app "a" cannot depend on itself']);
  });

  it('refuses a name listed twice', () => {
    assert.deepEqual(problems([app('a', ['b', 'b']), app('b')]), ['apps[0].dependsOn[1]: app "a" lists "b" twice']);
  });

  it('refuses a two-app cycle, spelled out, at the entry that closes it', () => {
    assert.deepEqual(problems([app('a', ['b']), app('b', ['a'])]), [
      'apps[1].dependsOn[0]: dependsOn forms a cycle: a → b → a; an app cannot be woken before itself',
    ]);
  });

  it('refuses a longer cycle reached through an app outside it', () => {
    const found = problems([app('web', ['x']), app('x', ['y']), app('y', ['z']), app('z', ['x'])]);
    assert.deepEqual(found, ['apps[3].dependsOn[0]: dependsOn forms a cycle: x → y → z → x; an app cannot be woken before itself']);
  });

  it('reports each separate cycle', () => {
    const found = problems([app('a', ['b']), app('b', ['a']), app('c', ['d']), app('d', ['c'])]);
    assert.equal(found.length, 2);
    assert.match(found[0]!, /a → b → a/);
    assert.match(found[1]!, /c → d → c/);
  });

  it('does not call a shared dependency (a diamond) a cycle', () => {
    assert.deepEqual(problems([app('web', ['api', 'cache']), app('api', ['db']), app('cache', ['db']), app('db')]), []);
  });

  it('is part of validateAppSet, with every other problem, as a SpecError', () => {
    try {
      validateAppSet([app('a', ['b']), app('b', ['a']), app('c', ['nope'])]);
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof SpecError);
      assert.deepEqual(
        err.problems.map((p) => p.path),
        ['apps[2].dependsOn[0]', 'apps[1].dependsOn[0]'],
      );
      assert.match(err.problems[0]!.message, /"nope"/);
    }
  });
});

describe('wakeOrder', () => {
  it('is empty for an app without dependencies or an unknown app', () => {
    assert.deepEqual(wakeOrder('db', byName([app('db')])), []);
    assert.deepEqual(wakeOrder('nope', byName([app('db')])), []);
  });

  it('puts dependencies first, transitively, each once, depth-first in declared order', () => {
    const specs = byName([app('web', ['api', 'cache']), app('api', ['db', 'queue']), app('cache', ['db']), app('db'), app('queue', ['db'])]);
    assert.deepEqual(wakeOrder('web', specs), ['db', 'queue', 'api', 'cache']);
    assert.deepEqual(wakeOrder('api', specs), ['db', 'queue']);
    assert.deepEqual(wakeOrder('cache', specs), ['db']);
  });

  it('follows declared order, not names', () => {
    const specs = byName([app('web', ['zeta', 'alpha']), app('zeta'), app('alpha')]);
    assert.deepEqual(wakeOrder('web', specs), ['zeta', 'alpha']);
  });

  it('terminates on a cycle or a missing app (validation refuses both) and never lists the app itself', () => {
    const specs = byName([app('a', ['b', 'gone']), app('b', ['a'])]);
    assert.deepEqual(wakeOrder('a', specs), ['b']);
    assert.deepEqual(wakeOrder('b', specs), ['a']);
  });
});

describe('dependents', () => {
  it('lists the apps that need this one up, directly or transitively', () => {
    const specs = byName([app('web', ['api']), app('api', ['db']), app('db'), app('other')]);
    assert.deepEqual(dependents('db', specs), ['web', 'api']);
    assert.deepEqual(dependents('api', specs), ['web']);
    assert.deepEqual(dependents('web', specs), []);
  });

  it('answers what a wakeOrder per app would, on generated graphs with cycles and missing names', () => {
    let seed = 11;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let run = 0; run < 200; run++) {
      const specs = byName(names.slice(0, 1 + next(names.length)).map((name) => app(name, Array.from({ length: next(3) }, () => [...names, 'gone'][next(names.length + 1)]!))));
      for (const name of [...names, 'gone']) {
        const expected = [...specs.keys()].filter((other) => other !== name && wakeOrder(other, specs).includes(name));
        assert.deepEqual(dependents(name, specs), expected, `${name} in ${JSON.stringify([...specs.values()].map((s) => [s.name, s.dependsOn]))}`);
      }
    }
  });

  it('reads each app a bounded number of times, not once per other app (it was quadratic)', () => {
    const n = 2_000;
    const chain = Array.from({ length: n }, (_, i) => ({ name: `a${i}`, dependsOn: i + 1 < n ? [`a${i + 1}`] : [] }) as unknown as AppSpec);
    let reads = 0;
    class Counted extends Map<string, AppSpec> {
      override get(key: string) {
        reads++;
        return super.get(key);
      }
      override has(key: string) {
        reads++;
        return super.has(key);
      }
    }
    const specs = new Counted(chain.map((spec) => [spec.name, spec]));
    assert.equal(dependents(`a${n - 1}`, specs).length, n - 1);
    assert.ok(reads <= 4 * n, `${reads} reads of ${n} apps`);
  });
});

describe('dependsOn walks over long chains and generated graphs', () => {
  // One apply body holds more than ten thousand minimal apps; the recursive walks overflowed the call stack (a 500).
  const base = app('a0');
  // Only the names and dependsOn are walked: lean specs keep 20,000 of them quick to make.
  const chain = (n: number, closed: boolean) =>
    Array.from({ length: n }, (_, i) => ({ name: `a${i}`, dependsOn: i + 1 < n ? [`a${i + 1}`] : closed ? ['a0'] : [] }) as unknown as AppSpec);

  it('a chain of thousands of apps is checked and woken without overflowing the stack', () => {
    assert.deepEqual(dependsOnIssues(chain(8_000, false)), []);
    const order = wakeOrder('a0', byName(chain(20_000, false)));
    assert.equal(order.length, 19_999);
    assert.deepEqual([order[0], order.at(-1)], ['a19999', 'a1']);
  });

  it('a cycle through 8,000 apps is one problem, at the entry that closes it', () => {
    const found = dependsOnIssues(chain(8_000, true));
    assert.equal(found.length, 1);
    assert.equal(formatPath(found[0]!.path), 'apps[7999].dependsOn[0]');
    assert.match(found[0]!.message, /^dependsOn forms a cycle: a0 → a1 → .* → a7999 → a0;/);
  });

  /** The walks as they were written, recursively: the reference for small graphs. */
  function recursiveWakeOrder(start: string, specs: ReadonlyMap<string, AppSpec>): string[] {
    const order: string[] = [];
    const seen = new Set([start]);
    const visit = (name: string): void => {
      for (const dep of specs.get(name)?.dependsOn ?? []) {
        if (seen.has(dep) || !specs.has(dep)) continue;
        seen.add(dep);
        visit(dep);
        order.push(dep);
      }
    };
    visit(start);
    return order;
  }

  it('wakes in the order the recursive walk did, and finds a cycle exactly when the graph has one', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...names, 'gone'), { maxLength: 3 }), { minLength: 5, maxLength: 5 }), (edges) => {
        const specs = names.map((name, i): AppSpec => ({ ...base, name, dependsOn: [...new Set(edges[i])] }));
        const map = byName(specs);
        for (const name of names) assert.deepEqual(wakeOrder(name, map), recursiveWakeOrder(name, map));
        // A cycle (not a self-dependency): some app is woken after something that needs it.
        const cyclic = names.some((name) => recursiveWakeOrder(name, map).some((dep) => recursiveWakeOrder(dep, map).includes(name)));
        const cycles = dependsOnIssues(specs).filter((issue) => /forms a cycle/.test(issue.message));
        assert.equal(cycles.length > 0, cyclic);
      }),
      { numRuns: 300 },
    );
  });
});
