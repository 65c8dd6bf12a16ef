// A reload narrows the policy under an app applied through the API. The app stays declared
// and what runs of it serves on (a config app the new policy refused would keep running
// too: that reload is refused); but its state said nothing: `running`, no reason, while no
// start, replica or restart would follow. Its status now says why the policy refuses it,
// through the API, the event stream and `berth get`, and stops saying so once widened again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppStatus } from '../../src/activator/app-status.js';
import type { AppView } from '../../src/cli/api-types.js';
import { appSummary } from '../../src/cli/commands/get-summary.js';
import { paint } from '../../src/cli/colour.js';
import { httpGet } from '../support/gateway-harness.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\n';
const WIDE = `${HEAD}policy:\n  images: ["fake/*"]\napps: []\n`;
const NARROW = `${HEAD}policy:\n  images: ["fake/web*"]\napps: []\n`;

test('an API app a reloaded policy refuses: its status says so and why, it runs on, and widening clears it', async (t) => {
  const bed = await FakeGatewayBed.create();
  t.after(() => bed.dispose());
  await writeFile(join(bed.dir, 'berth.yaml'), WIDE);
  const gateway = await bed.start();
  const created = await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'notes', image: 'fake/notes:1', port: 8080, readiness: { path: '/healthz' } });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/notes/')).status, 200);
  const told: AppStatus[] = [];
  const unsubscribe = gateway.events.subscribe((e) => void (e.type === 'state' && e.app === 'notes' && told.push(e.status)));
  t.after(unsubscribe);

  await writeFile(join(bed.dir, 'berth.yaml'), NARROW);
  assert.equal((await gateway.reload()).applied, true);
  const shown = await bed.api(gateway, 'GET', '/v1/apps/notes');
  assert.equal(shown.status, 200);
  const view = shown.json as AppView;
  assert.equal(view.state, 'running', 'a narrowed policy does not stop what runs');
  assert.match(view.status?.policyRefused ?? '', /policy no longer allows it: .*image "fake\/notes:1" of app "notes" is not allowed by policy\.images \(fake\/web\*\)/);
  assert.equal(bed.runtime.running('notes').length, 1);
  assert.match(told.at(-1)?.policyRefused ?? '', /policy no longer allows it/, 'the event stream is told at the reload');
  assert.match(appSummary(view, paint(false)), /^Refused: +the gateway's policy no longer allows it: .*no new container is made\)$/m);

  await writeFile(join(bed.dir, 'berth.yaml'), WIDE);
  assert.equal((await gateway.reload()).applied, true);
  const again = (await bed.api(gateway, 'GET', '/v1/apps/notes')).json as AppView;
  assert.equal(again.status?.policyRefused, undefined);
  assert.equal(told.at(-1)?.policyRefused, undefined, 'and told when it is allowed again');
  assert.doesNotMatch(appSummary(again, paint(false)), /^Refused:/m);
});
