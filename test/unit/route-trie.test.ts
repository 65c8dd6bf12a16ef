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

  it('looks up as fast with 10,000 apps as with 10 (within a loose margin, the machine is shared)', () => {
    const rate = (n: number) => {
      const table = new RouteTable(apps.slice(0, n));
      const paths = Array.from({ length: 256 }, (_, k) => `/session/app-${(k * 7919) % n}/api/${k}?q=1`);
      let hits = 0;
      const began = performance.now();
      let rounds = 0;
      while (performance.now() - began < 100) {
        for (const p of paths) if (table.match('gw.example.com', p)) hits++;
        rounds++;
      }
      assert.equal(hits, rounds * paths.length);
      return (rounds * paths.length) / (performance.now() - began);
    };
    let small = 0;
    let large = 0;
    // Interleaved, best of 5 each: other work on the machine hits both alike.
    for (let i = 0; i < 5; i++) {
      small = Math.max(small, rate(10));
      large = Math.max(large, rate(N));
    }
    // A scan of 10,000 prefixes would be hundreds of times slower; the trie stays within noise.
    assert.ok(large > small * 0.4, `10,000 apps: ${large.toFixed(0)}/ms against 10 apps: ${small.toFixed(0)}/ms`);
  });
});
