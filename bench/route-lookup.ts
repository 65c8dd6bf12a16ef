/**
 * Route lookups per second with few apps and with many: the proxy's RouteTable,
 * in process. Each app has its default path route (`/session/<name>/`) and every
 * tenth a host route as well, so both the host map and the path trie are walked.
 * `node dist/bench/route-lookup.js [apps...]` prints the rates.
 */
import { RouteTable } from '../src/proxy/route-table.js';

export interface LookupRate {
  apps: number;
  /** Requests spread over up to 1024 of the apps (the working set grows with the table). */
  lookupsPerS: number;
  /** Requests to the same 10 apps whatever the table's size (the same working set): the algorithm alone. */
  hotLookupsPerS: number;
}

/**
 * A table of `n` apps and the requests that hit them (and some that miss),
 * spread over up to `spread` distinct apps.
 */
function fixture(n: number, spread = n): { table: RouteTable; requests: Array<[string, string]> } {
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
    const m = Math.min(n, spread);
    const i = (k * 7919) % m;
    if (k % 8 === 7) requests.push(['other.example.com', `/nothing/here/${k}`]);
    else if (k % 8 === 3) requests.push([`app-${10 * ((k * 7919) % Math.ceil(m / 10))}.example.com:8080`, `/static/x.js?v=${k}`]);
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
 * weighs on each alike. Two mixes: requests spread over up to 1024 apps, whose
 * routes then no longer fit the CPU's caches in a big table (memory, not the
 * algorithm), and requests to the same 10 apps in every table (the algorithm).
 */
export function lookupRates(counts: readonly number[], ms = 300, rounds = 7): LookupRate[] {
  const spread = counts.map((n) => fixture(n));
  const hot = counts.map((n) => fixture(n, 10));
  const best = (fixtures: ReturnType<typeof fixture>[]) => {
    const rates = counts.map(() => 0);
    for (let r = 0; r <= rounds; r++) {
      fixtures.forEach((f, i) => {
        const rate = rateOnce(f.table, f.requests, ms);
        if (r > 0) rates[i] = Math.max(rates[i]!, rate);
      });
    }
    return rates;
  };
  const spreadRates = best(spread);
  const hotRates = best(hot);
  return counts.map((apps, i) => ({ apps, lookupsPerS: Math.round(spreadRates[i]!), hotLookupsPerS: Math.round(hotRates[i]!) }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = process.argv.slice(2).map(Number);
  for (const { apps, lookupsPerS, hotLookupsPerS } of lookupRates(counts.length > 0 ? counts : [10, 1000, 10000])) {
    console.log(`${String(apps).padStart(6)} apps: ${(lookupsPerS / 1e6).toFixed(2)} M lookups/s spread over up to 1024 apps, ${(hotLookupsPerS / 1e6).toFixed(2)} M to the same 10 apps`);
  }
}
