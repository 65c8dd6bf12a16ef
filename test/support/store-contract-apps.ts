import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, StoreError } from '../../src/errors.js';
import type { AppSpec } from '../../src/spec/types.js';
import { appSpec as spec } from './spec-fixture.js';
import { withFixture, type FixtureFactory } from './store-contract.js';

const names = (apps: ReadonlyArray<{ name: string }>) => apps.map((a) => a.name);

/** The desired-state, identity and token parts of the Store contract, for any store. */
export function appsContract(kind: string, make: FixtureFactory, skip: string | false = false): void {
  describe(`${kind} store contract: apps, identity, tokens`, { skip }, () => {
    const run = (fn: Parameters<typeof withFixture>[1]) => withFixture(make, fn);

    it('keeps app failures (one row every connection reads) across a reopen; a changed spec and a finished delete forget them', () =>
      run(async (ctx) => {
        const at = new Date(1_700_000_000_000);
        await ctx.store.applyApps([spec('web'), spec('gone'), spec('same')], 'config');
        assert.deepEqual(await ctx.store.appFailures(), new Map());
        const full = { reason: '3 failures in a row', lastError: 'the engine said: /host/path', publicError: 'app web failed to start', lastOutput: 'panic', failedAt: at };
        const bare = { lastError: 'the container exited with code 3', publicError: 'the container exited with code 3', failedAt: new Date(at.getTime() + 1) };
        await ctx.store.saveAppFailure('web', { ...full, lastError: 'an older one' });
        await ctx.store.saveAppFailure('web', full);
        await ctx.store.saveAppFailure('same', bare);
        await ctx.store.saveAppFailure('gone', bare);
        await assert.rejects(ctx.store.saveAppFailure('web', { ...full, failedAt: new Date(Number.NaN) }), StoreError);
        const other = await ctx.another();
        assert.deepEqual((await other.appFailures()).get('web'), full, 'replaced, and read by another connection as written');
        // web's spec changes, same's does not.
        await ctx.store.applyApps([spec('web', { env: { V: '2' } }), spec('same')], 'config');
        assert.equal(await ctx.store.deleteApp('gone'), true);
        assert.ok((await ctx.store.appFailures()).has('gone'), 'kept while the tombstone stands');
        await ctx.store.forgetDeleted('gone');
        const store = await ctx.reopen();
        assert.deepEqual(await store.appFailures(), new Map([['same', bare]]));
        await store.saveAppFailure('same', undefined);
        await store.saveAppFailure('never-failed', undefined);
        assert.deepEqual(await store.appFailures(), new Map());
      }));

    it('keeps apps across a reopen, sorted by name, and bumps the revision only on change', () =>
      run(async (ctx) => {
        const first = await ctx.store.applyApps([spec('zeta'), spec('alpha', { env: { A: '1' } })], 'config');
        assert.deepEqual(first.map((r) => [r.app.name, r.app.revision, r.changed]), [['zeta', 1, true], ['alpha', 1, true]]);
        const same = await ctx.store.applyApps([spec('zeta')], 'config');
        assert.deepEqual(same.map((r) => [r.app.revision, r.changed]), [[1, false]]);
        const store = await ctx.reopen();
        const apps = await store.listApps();
        assert.deepEqual(names(apps), ['alpha', 'zeta']);
        assert.deepEqual(apps[0]!.spec, spec('alpha', { env: { A: '1' } }));
        assert.equal(apps[0]!.specHash.length, 16);
        assert.ok(apps[0]!.createdAt instanceof Date && apps[0]!.createdAt.getTime() > 0);
        assert.deepEqual(await store.getApp('zeta'), apps[1]);
        assert.equal(await store.getApp('nope'), undefined);
        const changed = await store.applyApps([spec('zeta', { port: 9000 })], 'api');
        assert.deepEqual([changed[0]!.app.revision, changed[0]!.changed, changed[0]!.app.source], [2, true, 'api']);
        // The same spec from elsewhere changes the owner only.
        const moved = await store.applyApps([spec('zeta', { port: 9000 })], 'config');
        assert.deepEqual([moved[0]!.app.revision, moved[0]!.changed, moved[0]!.app.source], [2, false, 'config']);
        assert.equal((await store.getApp('zeta'))!.source, 'config');
      }));

    it('pages the app list by name', () =>
      run(async ({ store }) => {
        await store.applyApps(['e', 'a', 'd', 'b-x', 'c', 'bx'].map((n) => spec(n)), 'api');
        assert.deepEqual(names(await store.listAppsPage(undefined, 3)), ['a', 'b-x', 'bx']);
        assert.deepEqual(names(await store.listAppsPage('bx', 3)), ['c', 'd', 'e']);
        assert.deepEqual(names(await store.listAppsPage('e', 3)), []);
      }));

    it('applies a batch whole or not at all', () =>
      run(async ({ store }) => {
        await store.applyApps([spec('kept')], 'config');
        const bad = spec('bad', { env: { N: 1n as unknown as string } });
        await assert.rejects(store.applyApps([spec('first'), spec('kept', { port: 9 }), bad], 'config', ['kept']));
        assert.deepEqual((await store.listApps()).map((a) => [a.name, a.revision, a.spec.port]), [['kept', 1, 8080]]);
      }));

    it('keeps a deleted app as a tombstone until forgotten; a new spec of that name is revision 1', () =>
      run(async (ctx) => {
        await ctx.store.applyApps([spec('a'), spec('b'), spec('c')], 'api');
        await ctx.store.applyApps([spec('a', { port: 1 })], 'api');
        assert.equal(await ctx.store.deleteApp('a', { purgeVolumes: true }), true);
        assert.equal(await ctx.store.deleteApp('a'), false, 'already deleted');
        assert.equal(await ctx.store.deleteApp('nope'), false);
        await ctx.store.applyApps([], 'config', ['b']);
        const store = await ctx.reopen();
        assert.deepEqual(names(await store.listApps()), ['c']);
        assert.equal(await store.getApp('a'), undefined);
        const deleted = await store.listDeleted();
        assert.deepEqual(deleted.map((d) => [d.name, d.purgeVolumes]), [['a', true], ['b', false]]);
        assert.ok(deleted[0]!.deletedAt instanceof Date);
        await store.forgetDeleted('b');
        await store.forgetDeleted('c'); // a desired app is kept
        assert.deepEqual(names(await store.listDeleted()), ['a']);
        assert.deepEqual(names(await store.listApps()), ['c']);
        const again = await store.applyApps([spec('a')], 'api');
        assert.deepEqual([again[0]!.app.revision, again[0]!.changed], [1, true]);
        assert.deepEqual(names(await store.listDeleted()), []);
      }));

    it('keeps the scale override across a reopen and drops it when the spec changes', () =>
      run(async (ctx) => {
        await ctx.store.applyApps([spec('web')], 'api');
        assert.equal(await ctx.store.setReplicas('web', 3), true);
        assert.equal(await ctx.store.setReplicas('nope', 3), false);
        assert.equal((await (await ctx.reopen()).getApp('web'))!.replicas, 3);
        await ctx.store.applyApps([spec('web')], 'api');
        assert.equal((await ctx.store.getApp('web'))!.replicas, 3, 'an unchanged spec keeps it');
        await ctx.store.applyApps([spec('web', { port: 1 })], 'api');
        assert.equal((await ctx.store.getApp('web'))!.replicas, undefined);
        await ctx.store.setReplicas('web', 2);
        await ctx.store.setReplicas('web', undefined);
        assert.equal((await ctx.store.getApp('web'))!.replicas, undefined);
      }));

    it('restores a row exactly as read, and reverts unsettled API updates but not settled ones', () =>
      run(async (ctx) => {
        const [v1] = await ctx.store.applyApps([spec('a'), spec('b')], 'api');
        await ctx.store.applyApps([spec('a', { port: 2 })], 'api');
        await ctx.store.restoreApp(v1!.app);
        assert.deepEqual(await ctx.store.getApp('a'), v1!.app);
        // Over a tombstone too (a delete refused): the app is desired again, exactly as it was.
        await ctx.store.deleteApp('a', { purgeVolumes: true });
        await ctx.store.restoreApp(v1!.app);
        assert.deepEqual(await ctx.store.getApp('a'), v1!.app);
        assert.deepEqual(await ctx.store.listDeleted(), []);
        await ctx.store.applyApps([spec('a', { port: 3 }), spec('b', { port: 3 })], 'api');
        await ctx.store.settleApps(['b']);
        const store = await ctx.reopen();
        assert.deepEqual(await store.revertUnsettled(), ['a']);
        assert.deepEqual(((await store.getApp('a')) as { spec: AppSpec; revision: number }).revision, 1);
        assert.equal((await store.getApp('a'))!.spec.port, 8080);
        assert.equal((await store.getApp('b'))!.spec.port, 3);
        assert.deepEqual(await store.revertUnsettled(), [], 'once only');
        // An app an unsettled apply created goes with it: the apply is undone whole.
        await store.applyApps([spec('a', { port: 5 }), spec('n')], 'api');
        assert.deepEqual(await store.revertUnsettled(), ['a', 'n']);
        assert.equal((await store.getApp('a'))!.spec.port, 8080);
        assert.equal(await store.getApp('n'), undefined);
        assert.deepEqual(await store.listDeleted(), [], 'never desired: no tombstone, its containers are orphans');
        // A config sync never holds back.
        await store.applyApps([spec('c'), spec('c', { port: 4 })].slice(1), 'config');
        assert.deepEqual(await store.revertUnsettled(), []);
      }));

    it('reverts only the unsettled revisions named, and only while the store still holds them', () =>
      run(async (ctx) => {
        await ctx.store.applyApps([spec('a'), spec('b')], 'api');
        await ctx.store.settleApps(['a', 'b']);
        await ctx.store.applyApps([spec('a', { port: 2 }), spec('b', { port: 2 })], 'api');
        // A leader rolled back revision 2 of a: b's update is not its to undo.
        assert.deepEqual(await ctx.store.revertUnsettled([{ name: 'a', revision: 2 }]), ['a']);
        assert.equal((await ctx.store.getApp('a'))!.spec.port, 8080);
        assert.equal((await ctx.store.getApp('a'))!.revision, 1);
        assert.equal((await ctx.store.getApp('b'))!.spec.port, 2);
        // A later apply (revision 3 over 2) came first: the rollback of revision 2 leaves it be.
        await ctx.store.applyApps([spec('b', { port: 3 })], 'api');
        assert.deepEqual(await ctx.store.revertUnsettled([{ name: 'b', revision: 2 }]), []);
        assert.equal((await ctx.store.getApp('b'))!.spec.port, 3);
      }));

    it('shows the rows unsettled updates replaced, as they were, and none once settled', () =>
      run(async (ctx) => {
        const [a1] = await ctx.store.applyApps([spec('a')], 'api');
        await ctx.store.setReplicas('a', 2);
        await ctx.store.settleApps(['a']);
        assert.deepEqual(await ctx.store.replacedUnsettled(), []);
        await ctx.store.applyApps([spec('a', { port: 2 }), spec('n')], 'api');
        // The app the update created replaced nothing.
        const replaced = await ctx.store.replacedUnsettled();
        assert.deepEqual(replaced.map((r) => [r.name, r.revision, r.spec.port, r.replicas]), [['a', 1, 8080, 2]]);
        assert.equal(replaced[0]!.specHash, a1!.app.specHash);
        await ctx.store.settleApps(['a', 'n']);
        assert.deepEqual(await ctx.store.replacedUnsettled(), []);
      }));

    it('has one identity and one secret per key, the same for every connection and after a reopen', () =>
      run(async (ctx) => {
        const id = await ctx.store.storeId();
        assert.match(id, /^[0-9a-f-]{36}$/);
        const secret = await ctx.store.getOrCreateSecret('input');
        assert.equal(secret.length, 32);
        assert.notDeepEqual(await ctx.store.getOrCreateSecret('other'), secret);
        const peer = await ctx.another();
        assert.equal(await peer.storeId(), id);
        assert.deepEqual(await peer.getOrCreateSecret('input'), secret);
        assert.equal(await (await ctx.reopen()).storeId(), id);
      }));

    it('creates, finds, lists, touches and revokes tokens', () =>
      run(async ({ store }) => {
        const a = await store.createToken({ id: 'id-a', name: 'alice', hash: 'a'.repeat(64) });
        assert.deepEqual([a.id, a.name, a.lastUsedAt], ['id-a', 'alice', undefined]);
        await store.createToken({ id: 'id-b', name: 'id-a', hash: 'b'.repeat(64) });
        await assert.rejects(store.createToken({ id: 'id-c', name: 'alice', hash: 'c'.repeat(64) }), ConflictError);
        await assert.rejects(store.createToken({ id: 'id-d', name: 'dora', hash: 'a'.repeat(64) }), (err: unknown) => err instanceof StoreError);
        assert.equal(await store.countTokens(), 2);
        assert.equal((await store.findTokenByHash('a'.repeat(64)))!.id, 'id-a');
        assert.equal(await store.findTokenByHash('id-a'), undefined);
        assert.deepEqual((await store.listTokens()).map((t) => t.name).sort(), ['alice', 'id-a']);
        const t1 = new Date(1_700_000_000_000);
        await store.touchToken('id-a', t1);
        await store.touchToken('id-a', new Date(t1.getTime() - 1000));
        assert.equal((await store.findTokenByHash('a'.repeat(64)))!.lastUsedAt!.getTime(), t1.getTime());
        assert.equal(await store.revokeToken('id-a'), true, 'by id first');
        assert.deepEqual((await store.listTokens()).map((t) => t.id), ['id-b']);
        assert.equal(await store.revokeToken('id-a'), true, 'then by name');
        assert.equal(await store.revokeToken('id-a'), false);
        assert.equal(await store.countTokens(), 0);
        await store.createToken({ id: 'id-e', name: 'alice', hash: 'e'.repeat(64) });
        // keepOne: the only token left stays (the API would be locked out), decided with the delete.
        assert.equal(await store.revokeToken('alice', { keepOne: true }), 'last');
        assert.equal(await store.revokeToken('nobody', { keepOne: true }), false);
        await store.createToken({ id: 'id-f', name: 'fred', hash: 'f'.repeat(64) });
        assert.equal(await store.revokeToken('id-e', { keepOne: true }), true);
        assert.deepEqual((await store.listTokens()).map((t) => t.name), ['fred']);
      }));

    it('fails with a StoreError when not open', () =>
      run(async (ctx) => {
        await ctx.store.close();
        await assert.rejects(ctx.store.listApps(), StoreError);
        await assert.rejects(ctx.store.appendRequests([]), StoreError);
      }));
  });
}
