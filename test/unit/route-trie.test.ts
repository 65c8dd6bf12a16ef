import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PathTrie } from '../../src/proxy/path-trie.js';
import { RouteTable, normalizePrefix, remainderAfterPrefix } from '../../src/proxy/route-table.js';

interface Entry {
  prefix: string;
  id: number;
}

/** What the table did before the trie: the prefixes longest first (stable), the first that matches. */
function scan(entries: readonly Entry[], path: string): Entry | undefined {
  return [...entries].sort((a, b) => b.prefix.length - a.prefix.length).find((e) => remainderAfterPrefix(path, e.prefix) !== undefined);
}

// Few distinct characters, so prefixes and paths overlap often; `?` included, since a prefix may hold one.
const segment = fc.stringMatching(/^[ab?]{0,3}$/);
const pathOf = (segments: string[], slash: boolean) => `/${segments.join('/')}${slash ? '/' : ''}`;

describe('PathTrie', () => {
  it('answers what a longest-first scan of the prefixes answers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(segment, { maxLength: 4 }), { maxLength: 12 }),
        fc.array(fc.tuple(fc.array(segment, { maxLength: 5 }), fc.boolean(), fc.constantFrom('', '?', '?x/y', '/')), { minLength: 1, maxLength: 20 }),
        (prefixes, paths) => {
          const entries = prefixes.map((segs, id) => ({ prefix: normalizePrefix(pathOf(segs, false)), id }));
          const trie = new PathTrie<Entry>();
          for (const e of entries) trie.add(e);
          for (const [segs, slash, tail] of paths) {
            const path = pathOf(segs, slash) + tail;
            assert.equal(trie.match(path)?.id, scan(entries, path)?.id, `path ${JSON.stringify(path)}, prefixes ${JSON.stringify(entries.map((e) => e.prefix))}`);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('matches only the root prefix for a path that does not start with /', () => {
    const trie = new PathTrie<Entry>();
    trie.add({ prefix: '/a/', id: 1 });
    assert.equal(trie.match('*'), undefined);
    trie.add({ prefix: '/', id: 2 });
    assert.equal(trie.match('*')?.id, 2);
    assert.equal(trie.match('/a?x')?.id, 1);
  });
});

describe('RouteTable at scale', () => {
  const N = 10_000;
  const apps = Array.from({ length: N }, (_, i) => ({
    app: `app-${i}`,
    routes: [{ path: `/session/app-${i}/`, stripPrefix: i % 2 === 0 }, ...(i % 10 === 0 ? [{ host: `app-${i}.example.com`, stripPrefix: false }] : [])],
  }));

  it('routes each of 10,000 apps by path and by host', () => {
    const table = new RouteTable(apps);
    for (let i = 0; i < N; i += 7) {
      const m = table.match('gw.example.com', `/session/app-${i}/x?y=1`);
      assert.equal(m?.app, `app-${i}`);
      assert.equal(m?.upstreamPath, i % 2 === 0 ? '/x?y=1' : `/session/app-${i}/x?y=1`);
      assert.equal(table.match('gw', `/session/app-${i}`)?.app, `app-${i}`);
    }
    for (let i = 0; i < N; i += 10) assert.equal(table.match(`APP-${i}.example.com:80`, '/')?.app, `app-${i}`);
    assert.equal(table.match('gw', '/session/app-10000/'), undefined);
    assert.equal(table.match('gw', '/session/app-1x/'), undefined);
  });

  it('does the same work for a lookup with 10,000 apps as with 10: map probes, never a scan', () => {
    // Counted, not timed (speed is for bench/route-lookup.ts): every Map probe and string
    // comparison a lookup makes. A scan of the prefixes would grow with the table.
    const work = (n: number) => {
      const table = new RouteTable(apps.slice(0, n));
      const get = Map.prototype.get;
      const startsWith = String.prototype.startsWith;
      let calls = 0;
      Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown) {
        calls++;
        return get.call(this, key);
      };
      String.prototype.startsWith = function (this: string, search: string, position?: number) {
        calls++;
        return startsWith.call(this, search, position);
      };
      try {
        assert.equal(table.match('gw.example.com', `/session/app-${n - 1}/api/items?q=1`)?.app, `app-${n - 1}`);
        assert.equal(table.match(`app-0.example.com`, '/static/x.js')?.app, 'app-0');
        assert.equal(table.match('gw.example.com', '/nothing/here'), undefined);
      } finally {
        Map.prototype.get = get;
        String.prototype.startsWith = startsWith;
      }
      return calls;
    };
    const small = work(10);
    assert.ok(small > 0);
    assert.equal(work(N), small);
  });
});
