import type { AppStateName, AppView, RouteView } from './api-types.js';
import type { Paint } from './colour.js';
import { relativeTime } from './format.js';
import { shownText } from './terminal-text.js';

/** A route as short as it can be said: `example.com`, `/session/hello/`, `*.apps.test/api/`. */
export function routeLabel(route: Pick<RouteView, 'host' | 'path'>): string {
  if (route.host && route.path && route.path !== '/') return route.host + route.path;
  return route.host ?? route.path ?? '/';
}

/**
 * Running instances out of those that run while the app is up (`berth scale`, else
 * `scale.replicas`), like kubectl's READY and `docker service ls`: `1/1`, `0/3`. Out of
 * `scale.max` it read `1/3` for an app that runs one instance as asked, which says two are
 * missing; the dashboard says "1 of 1 ready".
 */
export function instanceCount(app: AppView): string {
  const running = app.instances.filter((i) => i.state === 'running').length;
  return shownText(`${running}/${app.status?.replicas ?? app.spec.scale.replicas ?? 1}`);
}

export function stateLabel(state: AppStateName, p: Paint): string {
  switch (state) {
    case 'running':
      return p.green(state);
    case 'starting':
    case 'stopping':
    case 'paused':
      return p.yellow(state);
    case 'failed':
    case 'crashloop':
      return p.red(state);
    default:
      // A state this CLI does not know (a newer gateway's, or anything a server sends) is shown as text.
      return p.dim(shownText(state));
  }
}

/**
 * When the app will be stopped for idleness: `in 4m` while running and idle,
 * `busy` while requests are in flight (the clock only runs when none are), `-`
 * when it is not running or never idles.
 */
export function idleIn(app: AppView, nowMs = Date.now()): string {
  const s = app.status;
  if (!s || (s.state !== 'running' && s.state !== 'starting')) return '-';
  if (s.inFlight > 0) return 'busy';
  if (app.spec.scale.min > 0) return 'never';
  return s.idleAt ? relativeTime(s.idleAt, nowMs) : '-';
}
