/**
 * A spec's labels go onto its containers, where other tools watching the engine obey
 * them (Traefik, Compose, Watchtower, Ofelia…). berth.* is refused by the schema;
 * other tools' namespaces are refused by the policy unless policy.labels allows them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyError, SpecError } from '../../src/errors.js';
import { parseCntSpawnerBody, parseSpecObject, validateAppSet } from '../../src/spec/index.js';
import type { AppSpec, DockerPolicy } from '../../src/spec/types.js';

const base: DockerPolicy = { images: [], networks: [], bindMountRoots: [], allowPrivileged: false, capabilities: [], allowHostNetwork: false, allowHostPid: false };

function withLabels(labels: Record<string, string>): AppSpec {
  return parseSpecObject({ apiVersion: 'berth/v1', name: 'web', image: 'example/web:1', port: 8080, labels });
}

function refused(spec: AppSpec, policy: DockerPolicy): string[] {
  try {
    validateAppSet([spec], policy);
  } catch (err) {
    assert.ok(err instanceof PolicyError, `a policy refusal (403), got ${String(err)}`);
    return err.problems.map((p) => p.path.replace(/^apps\[0\]\./, ''));
  }
  return [];
}

describe('labels against the policy', () => {
  const cases: Array<[string, Record<string, string>, string[] | undefined, string[]]> = [
    ['plain labels by default', { team: 'web', 'com.example.owner': 'alice' }, undefined, []],
    ['a Traefik router by default', { 'traefik.http.routers.x.rule': 'Host(`admin.example.com`)' }, undefined, ['labels["traefik.http.routers.x.rule"]']],
    ['Compose adoption by default', { 'com.docker.compose.project': 'prod' }, undefined, ['labels["com.docker.compose.project"]']],
    ['Watchtower by default', { 'com.centurylinklabs.watchtower.enable': 'true' }, undefined, ['labels["com.centurylinklabs.watchtower.enable"]']],
    ['an Ofelia job by default', { 'ofelia.job-run.x.image': 'alpine' }, undefined, ['labels["ofelia.job-run.x.image"]']],
    ['caddy-docker-proxy by default', { caddy: 'example.com', 'caddy_0.reverse_proxy': 'x' }, undefined, ['labels.caddy', 'labels["caddy_0.reverse_proxy"]']],
    // Traefik reads its labels in any case: a capitalised one got past the deny pattern.
    ['a Traefik router in capitals by default', { 'Traefik.HTTP.Routers.x.Rule': 'Host(`admin.example.com`)', 'TRAEFIK.enable': 'true', 'traefi\u212a.enable': 'true' }, undefined, ['labels["Traefik.HTTP.Routers.x.Rule"]', 'labels["TRAEFIK.enable"]', 'labels["traefi\u212a.enable"]']],
    ['other control namespaces in any case by default', { 'Com.Docker.Compose.project': 'prod', Caddy: 'example.com', 'AutoHeal': 'true' }, undefined, ['labels["Com.Docker.Compose.project"]', 'labels.Caddy', 'labels.AutoHeal']],
    ['what policy.labels names, only as written', { 'traefik.enable': 'true', 'Traefik.enable': 'true' }, ['traefik.enable'], ['labels["Traefik.enable"]']],
    ['Traefik where policy.labels allows it', { 'traefik.enable': 'true' }, ['traefik.*'], []],
    ['what policy.labels does not name', { team: 'web', other: 'x' }, ['team'], ['labels.other']],
    ['any label with an empty policy.labels', { team: 'web' }, [], ['labels.team']],
  ];
  for (const [what, labels, allowed, expected] of cases) {
    it(`${expected.length > 0 ? 'refuses' : 'allows'} ${what}`, () => {
      const policy = allowed === undefined ? base : { ...base, labels: allowed };
      assert.deepEqual(refused(withLabels(labels), policy), expected);
    });
  }

  it('says why, naming the app and the policy field', () => {
    assert.throws(() => validateAppSet([withLabels({ 'traefik.enable': 'true' })], base), /label "traefik\.enable" of app "web": it belongs to a tool that acts on containers, which policy\.labels must name to allow/);
    assert.throws(() => validateAppSet([withLabels({ x: '1' })], { ...base, labels: ['team'] }), /label "x" of app "web": policy\.labels \(team\) does not allow it/);
  });

  it('refuses a Compose label kept from a cntSpawner body', () => {
    const spec = parseCntSpawnerBody({ name: 'web', image: 'example/web:1', port: 8080, labels: { 'com.docker.compose.project': 'prod' } });
    assert.deepEqual(refused(spec, base), ['labels["com.docker.compose.project"]']);
  });

  it("refuses berth's own labels in the spec itself (422), whatever the policy", () => {
    for (const name of ['berth.managed', 'berth.app', 'berth.template-hash']) {
      assert.throws(() => withLabels({ [name]: 'x' }), (err: unknown) => err instanceof SpecError && err.problems.some((p) => p.path.startsWith('labels')), name);
    }
  });
});
