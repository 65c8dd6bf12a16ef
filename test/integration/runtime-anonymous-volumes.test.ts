// Images that declare a VOLUME (databases, most official images) get an anonymous
// volume with each container made from them. berth removed its containers without
// their anonymous volumes, so each rollout, recreate and app delete left one behind
// on the host for good, unlabelled: nothing of berth's could find it again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { tarArchive } from '../../src/runtime/docker/tar.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { HTTPD_IMAGE } from '../support/images.js';
import { appSpec } from '../support/spec-fixture.js';

const run = testRun();
const APPS_NET = `berth-apps-test-${run.id}`;
const runtime = new DockerRuntime({ extraLabels: run.labels, appsNetwork: APPS_NET });
const docker = testDocker();
/** Built here from the local test image (nothing pulled), removed after. */
const VOLUME_IMAGE = `berth-test/with-volume:${run.id}`;

describe('removing a container takes its anonymous volumes', () => {
  const anonymous: string[] = [];
  after(async () => {
    await cleanupByLabel(run.label);
    for (const name of anonymous) await docker.getVolume(name).remove().catch(() => undefined);
    await docker.getImage(VOLUME_IMAGE).remove({ force: true }).catch(() => undefined);
  });

  it('an image with a VOLUME: the container and its anonymous volume go, a named one stays until purged', { timeout: 60_000 }, async () => {
    const context = tarArchive([{ name: 'Dockerfile', type: 'file', mode: 0o644, content: `FROM ${HTTPD_IMAGE}\nVOLUME /scratch\nLABEL ${run.label}\n` }]);
    const build = await docker.buildImage(Buffer.from(context) as unknown as NodeJS.ReadableStream, { t: VOLUME_IMAGE, labels: run.labels });
    await new Promise((resolve, reject) => docker.modem.followProgress(build, (err: Error | null) => (err ? reject(err) : resolve(undefined))));
    const name = `av-${run.id}-${randomBytes(2).toString('hex')}`;
    const inst = await runtime.ensure(appSpec(name, { startTimeoutMs: 30_000, volume: '/data' }, VOLUME_IMAGE), 0);
    const mounts = (await docker.getContainer(inst.id).inspect()).Mounts as Array<{ Type: string; Name?: string; Destination: string }>;
    const scratch = mounts.find((m) => m.Destination === '/scratch')?.Name;
    const data = mounts.find((m) => m.Destination === '/data')?.Name;
    assert.ok(scratch, `an anonymous volume at /scratch: ${JSON.stringify(mounts)}`);
    assert.ok(data, `the app's named volume at /data: ${JSON.stringify(mounts)}`);
    anonymous.push(scratch);
    await runtime.remove(inst.id);
    const left = async (volume: string) => docker.getVolume(volume).inspect().then(() => true, () => false);
    assert.equal(await left(scratch), false, 'the anonymous volume went with its container');
    assert.equal(await left(data), true, "the app's named volume stays (its data), until a purge");
  });
});
