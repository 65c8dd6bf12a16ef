import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planReconcile, type DesiredApp, type ObservedContainer, type PlanInput, type RemovedApp } from '../../src/activator/reconcile-plan.js';

const ME = 'store-me';
const OTHER = 'store-other';

function desired(name: string, extra: Partial<DesiredApp> = {}): DesiredApp {
  return { name, containerHash: 'h1', alwaysOn: false, known: false, ...extra };
}

function box(id: string, app: string, extra: Partial<ObservedContainer> = {}): ObservedContainer {
  return { id, name: `berth-${app}-${id}`, app, specHash: 'h1', store: ME, ...extra };
}

/** The actions, each in a short text form, so the table reads at a glance. */
function plan(input: Partial<PlanInput>): string[] {
  return planReconcile({ desired: [], observed: [], removed: [], storeId: ME, ...input }).map((a) => {
    switch (a.kind) {
      case 'remove':
        return `remove ${a.id} (${a.why}${a.purgeVolumes ? ', purge' : ''})`;
      case 'adopt':
        return `adopt ${a.app} [${a.ids.join(',')}]`;
      case 'leave':
        return `leave ${a.id} (${a.why})`;
      default:
        return `${a.kind} ${a.app}`;
    }
  });
}

const gone = (name: string, purgeVolumes = false): RemovedApp => ({ name, purgeVolumes });

const cases: Array<{ what: string; input: Partial<PlanInput>; expect: string[] }> = [
  { what: 'nothing desired, nothing there', input: {}, expect: [] },
  { what: 'a new app without containers: adopt none, create one', input: { desired: [desired('web')] }, expect: ['adopt web []', 'create web'] },
  { what: 'a new app with a matching container: adopted', input: { desired: [desired('web')], observed: [box('c1', 'web')] }, expect: ['adopt web [c1]'] },
  {
    what: 'a stale container goes before adoption, then one is created',
    input: { desired: [desired('web')], observed: [box('c1', 'web', { specHash: 'old' })] },
    expect: ['remove c1 (stale)', 'adopt web []', 'create web'],
  },
  { what: 'an always-on app is started after adoption', input: { desired: [desired('db', { alwaysOn: true })], observed: [box('c1', 'db')] }, expect: ['adopt db [c1]', 'start db'] },
  { what: 'a known app gets the new spec', input: { desired: [desired('web', { known: true })], observed: [box('c1', 'web', { specHash: 'old' })] }, expect: ['update web'] },
  { what: 'a known always-on app is updated then started', input: { desired: [desired('web', { known: true, alwaysOn: true })] }, expect: ['update web', 'start web'] },
  {
    what: 'a deleted app: its controller stops, its containers go (purged when asked)',
    input: { removed: [gone('old', true)], observed: [box('c1', 'old'), box('c2', 'old')] },
    expect: ['stop old', 'remove c1 (deleted, purge)', 'remove c2 (deleted, purge)'],
  },
  { what: "a deleted app's unlabelled (older berth) container goes too", input: { removed: [gone('old')], observed: [box('c1', 'old', { store: undefined })] }, expect: ['stop old', 'remove c1 (deleted)'] },
  {
    what: "a deleted app's container of another store is left",
    input: { removed: [gone('old')], observed: [box('c1', 'old', { store: OTHER })] },
    expect: ['stop old', 'leave c1 (other-store)'],
  },
  { what: 'an app desired and removed at once is desired', input: { desired: [desired('web')], removed: [gone('web')], observed: [box('c1', 'web')] }, expect: ['adopt web [c1]'] },
  { what: "this store's orphan (an interrupted delete) is removed, volume kept", input: { observed: [box('c1', 'ghost')] }, expect: ['remove c1 (orphan)'] },
  { what: "another store's container of an undeclared app is left", input: { observed: [box('c1', 'ghost', { store: OTHER })] }, expect: ['leave c1 (other-store)'] },
  { what: 'an unlabelled container of an undeclared app is left (and logged)', input: { observed: [box('c1', 'ghost', { store: undefined })] }, expect: ['leave c1 (unlabelled)'] },
  {
    what: "a desired app never adopts or removes another store's container of the same name",
    input: { desired: [desired('web')], observed: [box('c1', 'web', { store: OTHER, specHash: 'old' })] },
    expect: ['adopt web []', 'create web', 'leave c1 (other-store)'],
  },
  { what: "a desired app adopts an older berth's unlabelled container", input: { desired: [desired('web')], observed: [box('c1', 'web', { store: undefined })] }, expect: ['adopt web [c1]'] },
  { what: 'without a store id nothing is an orphan', input: { storeId: undefined, observed: [box('c1', 'ghost')] }, expect: ['leave c1 (unlabelled)'] },
  {
    what: 'deletions come before the desired apps, orphans last',
    input: { desired: [desired('a')], removed: [gone('b')], observed: [box('o', 'ghost'), box('b1', 'b'), box('a1', 'a')] },
    expect: ['stop b', 'remove b1 (deleted)', 'adopt a [a1]', 'remove o (orphan)'],
  },
];

describe('planReconcile', () => {
  for (const c of cases) {
    it(c.what, () => assert.deepEqual(plan(c.input), c.expect));
  }
});
