// Request rate over the last hour: the app's request history (newest first, at most
// 1000 records) counted per minute here, drawn as a small inline SVG.

import { api, appPath } from './api.js';
import { h, s } from './dom.js';

const MINUTES = 60;
const LIMIT = 1000;
const MAX_AGE_MS = 60_000;

/** name → {buckets: number[60] (oldest first), total, capped, readAt} */
const cache = new Map();
const inflight = new Map();

/** Re-read no more often than this even while requests keep coming. */
const MIN_AGE_MS = 5_000;

/**
 * The last hour of one app, from the cache when read less than a minute ago and
 * not before `activityAt` (the app's last request, in ms): then there is more to count.
 */
export function requestRate(name, { activityAt = 0 } = {}) {
  const cached = cache.get(name);
  const age = cached ? Date.now() - cached.readAt : Infinity;
  const stale = age >= MAX_AGE_MS || (activityAt > cached.readAt && age >= MIN_AGE_MS);
  if (!stale) return Promise.resolve(cached);
  if (inflight.has(name)) return inflight.get(name);
  const p = api(appPath(name, `/history?since=1h&limit=${LIMIT}`))
    .then((page) => {
      const rate = bucket(page.items, Date.now());
      rate.capped = Boolean(page.next);
      cache.set(name, rate);
      return rate;
    })
    .finally(() => inflight.delete(name));
  inflight.set(name, p);
  return p;
}

export function cachedRate(name) {
  return cache.get(name);
}

/** Counts records per minute over the hour before `now`; buckets[59] is the current minute. */
export function bucket(items, now) {
  const buckets = new Array(MINUTES).fill(0);
  let total = 0;
  for (const item of items) {
    const age = now - Date.parse(item.time);
    if (!(age >= 0 && age < MINUTES * 60_000)) continue;
    buckets[MINUTES - 1 - Math.floor(age / 60_000)]++;
    total++;
  }
  return { buckets, total, capped: false, readAt: now };
}

/** The chart; its label says in words what it shows. */
export function sparkline(rate) {
  const width = 120;
  const height = 28;
  if (!rate) return h('span', { class: 'sparkline muted', text: '…' });
  const peak = Math.max(1, ...rate.buckets);
  const x = (i) => (i / (MINUTES - 1)) * width;
  const y = (n) => height - 2 - (n / peak) * (height - 4);
  const points = rate.buckets.map((n, i) => `${x(i).toFixed(1)},${y(n).toFixed(1)}`).join(' ');
  const total = `${rate.total}${rate.capped ? '+' : ''}`;
  const label = `${total} requests in the last hour, at most ${Math.max(...rate.buckets)} in one minute`;
  return h(
    'span',
    { class: 'sparkline' },
    s(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label, preserveAspectRatio: 'none' },
      s('title', {}, label),
      s('polygon', { class: 'spark-area', points: `0,${height} ${points} ${width},${height}` }),
      s('polyline', { class: 'spark-line', points }),
    ),
    h('span', { class: 'spark-total', 'aria-hidden': 'true', text: `${total}/h` }),
  );
}
