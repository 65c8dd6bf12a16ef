/**
 * Route lookups per second with few apps and with many: the proxy's RouteTable,
 * in process. Each app has its default path route (`/session/<name>/`) and every
 * tenth a host route as well, so both the host map and the path trie are walked.
 * `node dist/bench/route-lookup.js [apps...]` prints the rates.
 */
import { RouteTable } from '../src/proxy/route-table.js';

export interface LookupRate {
  apps: number;
  lookupsPerS: number;
}

/** A table of `n` apps and the requests that hit them (and some that miss). */
function fixture(n: number): { table: RouteTable; requests: Array<[string, string]> } {
  const apps = Array.from({ length: n }, (_, i) => {
    const name = `app-${i}`;
    const routes: Array<{ path?: string; host?: string; stripPrefix: boolean }> = [{ path: `/session/${name}/`, stripPrefix: false }];
    if (i % 10 === 0) routes.push({ host: `${name}.example.com`, stripPrefix: false });
    return { app: name, routes };
  });
  const table = new RouteTable(apps);
  const requests: Array<[string, string]> = [];
  for (let k = 0; k < 1024; k++) {
    // The same mix whatever n: 1 in 8 misses, 1 in 8 by host (an app with a host route), the rest by path.
    const i = (k * 7919) % n;
    if (k % 8 === 7) requests.push(['other.example.com', `/nothing/here/${k}`]);
    else if (k % 8 === 3) requests.push([`app-${10 * ((k * 7919) % Math.ceil(n / 10))}.example.com:8080`, `/static/x.js?v=${k}`]);
    else requests.push(['gateway.example.com', `/session/app-${i}/api/items/${k}?q=1`]);
  }
  return { table, requests };
}

/** Matches of `requests` on `table` per second over `ms`. */
function rateOnce(table: RouteTable, requests: ReadonlyArray<[string, string]>, ms: number): number {
  let count = 0;
  let misses = 0;
  const began = performance.now();
  let now = began;
  while (now - began < ms) {
    for (const [host, path] of requests) if (!table.match(host, path)) misses++;
    count += requests.length;
    now = performance.now();
  }
  return misses >= 0 ? (count / (now - began)) * 1000 : 0;
}

/**
 * Lookups per second for each app count, best of `rounds` rounds of `ms` each
 * (after a warm-up), the counts taking turns so that other work on the machine
 * weighs on each alike.
 */
export function lookupRates(counts: readonly number[], ms = 300, rounds = 7): LookupRate[] {
  const fixtures = counts.map(fixture);
  const best = counts.map(() => 0);
  for (let r = 0; r <= rounds; r++) {
    fixtures.forEach((f, i) => {
      const rate = rateOnce(f.table, f.requests, ms);
      if (r > 0) best[i] = Math.max(best[i]!, rate);
    });
  }
  return counts.map((apps, i) => ({ apps, lookupsPerS: Math.round(best[i]!) }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = process.argv.slice(2).map(Number);
  for (const { apps, lookupsPerS } of lookupRates(counts.length > 0 ? counts : [10, 1000, 10000])) {
    console.log(`${String(apps).padStart(6)} apps: ${(lookupsPerS / 1e6).toFixed(2)} M lookups/s`);
  }
}
