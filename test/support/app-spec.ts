import { APP_IMAGE } from './images.js';

/**
 * A berth/v1 spec for the test app, routed at `/s/<name>/` with the prefix
 * stripped, ready when /healthz answers. `extra` is appended YAML (top-level keys).
 */
export function testAppYaml(name: string, extra = '', image = APP_IMAGE): string {
  return `apiVersion: berth/v1\nname: ${name}\nimage: ${image}\nport: 8080\nreadiness: {path: /healthz}\nroutes:\n  - path: /s/${name}/\n    stripPrefix: true\n${extra}`;
}

/** The proxy path of `path` in a test app spec'd by testAppYaml. */
export function appPath(name: string, path = '/ping'): string {
  return `/s/${name}${path}`;
}

/** The same spec as JSON for POST /v1/apps (testAppYaml's shape), with container labels for a run's cleanup. */
export function testAppJson(name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'berth/v1',
    name,
    image: APP_IMAGE,
    port: 8080,
    readiness: { path: '/healthz' },
    routes: [{ path: `/s/${name}/`, stripPrefix: true }],
    labels,
    ...extra,
  };
}
