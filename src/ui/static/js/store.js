// What the dashboard knows about the gateway: only what the admin API said, kept
// current by its event stream. There is no other source: state events update an app's
// status in place; anything an event does not carry (instances, spec, a new app) is
// fetched again from the API.

import { ApiError, api, appPath } from './api.js';
import { followEvents } from './sse.js';

/** Between events, lastActivity and idleAt move with every request: re-read this often. */
const APPS_REFRESH_MS = 10_000;
const HEALTH_REFRESH_MS = 15_000;

export const state = {
  /** name → the app as GET /v1/apps/{name} shows it. */
  apps: new Map(),
  /** GET /v1/health, and when it was read (uptime ticks from there). */
  health: undefined,
  healthReadAt: 0,
  /** 'off' | 'connecting' | 'live' | 'retrying' | 'unauthorized' */
  stream: 'off',
  loaded: false,
  loadError: undefined,
};

const listeners = new Set();
/** State events that came before the first app list: name → status. */
const early = new Map();

/** change: {kind: 'apps'} | {kind: 'app', name, previous?} | {kind: 'deleted', name} | {kind: 'requests', name, count} | {kind: 'health'} | {kind: 'stream'} */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(change) {
  for (const listener of [...listeners]) listener(change);
}

/** Every app: GET /v1/apps answers a page at a time (by name), so the pages are followed to the end. */
async function allApps() {
  const apps = [];
  let cursor;
  do {
    const page = await api(`/v1/apps?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    apps.push(...page.apps);
    cursor = page.next;
  } while (cursor);
  return apps;
}

export async function loadApps() {
  try {
    const apps = await allApps();
    const fresh = new Map();
    for (const app of apps) {
      const known = state.apps.get(app.name) ?? (early.has(app.name) ? { state: early.get(app.name).state, status: early.get(app.name) } : undefined);
      fresh.set(app.name, keepNewerStatus(app, known));
    }
    early.clear();
    state.apps = fresh;
    state.loaded = true;
    state.loadError = undefined;
  } catch (err) {
    state.loadError = err;
  }
  emit({ kind: 'apps' });
}

export async function loadApp(name) {
  try {
    const app = await api(appPath(name));
    const previous = state.apps.get(name)?.state;
    state.apps.set(name, keepNewerStatus(app, state.apps.get(name)));
    emit({ kind: 'app', name, previous });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && state.apps.delete(name)) emit({ kind: 'deleted', name });
  }
}

export async function loadHealth() {
  try {
    state.health = await api('/v1/health');
  } catch (err) {
    // 503 is the gateway saying the engine is down; its body is still the health report.
    state.health = err instanceof ApiError && err.problem?.engine ? err.problem : { status: 'unreachable', engine: err.message };
  }
  state.healthReadAt = Date.now();
  emit({ kind: 'health' });
}

/**
 * A fetched app can be older than a state event that arrived while the fetch was under
 * way; the status that entered its state later wins.
 */
function keepNewerStatus(fetched, known) {
  if (!known?.status || !fetched.status) return fetched;
  if (Date.parse(known.status.since) > Date.parse(fetched.status.since)) return { ...fetched, status: known.status, state: known.state };
  return fetched;
}

/** Apps to read again, and the one timer that will. */
const pending = new Set();
let pendingTimer;
/**
 * Past this many apps changed in one burst (a gateway restart, a mass idle stop),
 * the list is read once instead of each app: a few pages, not thousands of calls.
 */
const REFRESH_ONE_BY_ONE = 20;

/** Re-reads one app soon; every event in a burst, for any app, comes to one round of reads. */
function refreshSoon(name) {
  pending.add(name);
  pendingTimer ??= setTimeout(() => {
    pendingTimer = undefined;
    const names = [...pending];
    pending.clear();
    if (names.length > REFRESH_ONE_BY_ONE) rereadList();
    else for (const one of names) void loadApp(one);
  }, 250);
}

/** The list read a burst asked for, if under way; a burst that goes on meanwhile gets one more after it, not one each. */
let listing;
let listAgain = false;

function rereadList() {
  if (listing) {
    listAgain = true;
    return;
  }
  listing = loadApps().finally(() => {
    listing = undefined;
    if (listAgain) {
      listAgain = false;
      rereadList();
    }
  });
}

function onEvent(type, event) {
  const name = event.app;
  if (type === 'state') {
    const app = state.apps.get(name);
    if (!app) {
      // Before the first list arrives: kept, and applied over the list if newer (see loadApps).
      if (!state.loaded) early.set(name, event.status);
      else refreshSoon(name);
      return;
    }
    const previous = app.state;
    // A new object for every change: a view tells a changed app by identity, without comparing contents.
    state.apps.set(name, { ...app, status: event.status, state: event.status.state });
    emit({ kind: 'app', name, previous });
    // Instances come and go with the state; the event does not list them.
    if (previous !== event.status.state) refreshSoon(name);
  } else if (type === 'applied') {
    refreshSoon(name);
  } else if (type === 'deleted') {
    if (state.apps.delete(name)) emit({ kind: 'deleted', name });
  } else if (type === 'request') {
    // New history records (at most one event a second per app): the Requests tab reloads.
    emit({ kind: 'requests', name, count: event.count });
  }
}

let stream;
let timers = [];

/** Starts following the gateway (after sign-in). */
export function start() {
  stop();
  stream = followEvents('/v1/events', {
    onEvent,
    onStatus: (status) => {
      state.stream = status;
      emit({ kind: 'stream' });
    },
    // Whatever happened while disconnected (an apply, a delete) is read again in full.
    onOpen: () => void loadApps(),
  });
  void loadHealth();
  timers = [
    setInterval(() => document.visibilityState === 'visible' && void loadApps(), APPS_REFRESH_MS),
    setInterval(() => document.visibilityState === 'visible' && void loadHealth(), HEALTH_REFRESH_MS),
  ];
}

export function stop() {
  stream?.close();
  stream = undefined;
  for (const t of timers) clearInterval(t);
  timers = [];
  clearTimeout(pendingTimer);
  pendingTimer = undefined;
  pending.clear();
  listAgain = false;
  state.apps = new Map();
  early.clear();
  state.loaded = false;
  state.health = undefined;
}
