// An edit names a spec file not written yet: the reload is refused ("does not exist"),
// and writing the file then must reload, though the configuration in force never named it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { watchConfig } from '../../src/cli/config-watch.js';
import type { Gateway, ReloadOutcome } from '../../src/gateway/gateway.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { waitFor } from '../support/wait-for.js';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\n';
const inline = '  - {apiVersion: berth/v1, name: web, image: "fake/web:1", port: 8080}\n';

/**
 * A watched gateway serving `web`, whose config is then edited to name `source` too, not yet
 * there: the reload is refused saying so. Returns the gateway and every reload's outcome.
 */
async function refusedForMissing(t: TestContext, source: string, missing: RegExp): Promise<{ bed: FakeGatewayBed; gateway: Gateway; outcomes: ReloadOutcome[] }> {
  const bed = await FakeGatewayBed.create();
  t.after(() => bed.dispose());
  await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${inline}`);
  const gateway = await bed.start();
  const outcomes: ReloadOutcome[] = [];
  const watch = watchConfig(() => gateway.watchedSources, async () => outcomes.push(await gateway.reload()), 20);
  t.after(() => watch.close());
  await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${inline}  - ${source}\n`);
  await waitFor('the refused reload', () => outcomes.some((o) => !o.applied), { timeoutMs: 5000 });
  assert.match(outcomes.find((o) => !o.applied)!.error ?? '', missing);
  return { bed, gateway, outcomes };
}

test('a spec file named by a refused reload is watched: writing it reloads and applies', async (t) => {
  const { bed, gateway, outcomes } = await refusedForMissing(t, './shop.yaml', /shop\.yaml does not exist/);
  await writeFile(join(bed.dir, 'shop.yaml'), 'apiVersion: berth/v1\nname: shop\nimage: "fake/shop:1"\nport: 8080\n');
  await waitFor('a reload for the spec file once written', () => outcomes.some((o) => o.applied), { timeoutMs: 5000 });
  assert.deepEqual(gateway.currentConfig!.apps.map((a) => a.name).sort(), ['shop', 'web']);
  // Applied: the file is now a source of the configuration in force, named once.
  assert.equal(gateway.watchedSources.filter((s) => s.endsWith('shop.yaml')).length, 1);
});

test('a spec directory named by a refused reload, made afterwards and then filled: the spec written in it is applied', async (t) => {
  const { bed, gateway, outcomes } = await refusedForMissing(t, './apps', /apps does not exist/);
  // A deploy tool makes the directory first and fills it after: the directory's own watch must follow.
  await mkdir(join(bed.dir, 'apps'));
  await waitFor('a reload for the directory made', () => outcomes.some((o) => o.applied), { timeoutMs: 5000 });
  await writeFile(join(bed.dir, 'apps', 'shop.yaml'), 'apiVersion: berth/v1\nname: shop\nimage: "fake/shop:1"\nport: 8080\n');
  await waitFor('a reload for the spec file written in it', () => gateway.currentConfig!.apps.some((a) => a.name === 'shop'), { timeoutMs: 5000 });
  assert.deepEqual(gateway.currentConfig!.apps.map((a) => a.name).sort(), ['shop', 'web']);
});
