import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityOwners } from '../../src/activator/activity-owners.js';

describe('ActivityOwners', () => {
  // Steps: `+X` a request of "web" began counted by owner X, `-` one ended; then the owner each end went to.
  const table: Array<[string, string[], string]> = [
    ['one app', ['+A', '+A', '-', '-'], 'A A'],
    ['an end with nothing counted goes nowhere', ['-', '+A', '-'], '_ A'],
    ['deleted and created again: the old request ends first', ['+A', '+B', '-', '-'], 'A B'],
    ['deleted and created again: the new request ends first (the new app is counted above, never below)', ['+A', '+B', '-', '+B', '-', '-'], 'A B B'],
    ['three generations: oldest first', ['+A', '+B', '+C', '+B', '-', '-', '-', '-'], 'A B C B'],
  ];
  for (const [what, steps, want] of table) {
    it(what, () => {
      const owners = new ActivityOwners<string>();
      const got: string[] = [];
      for (const step of steps) {
        if (step.startsWith('+')) owners.began('web', step.slice(1));
        else got.push(owners.ended('web') ?? '_');
      }
      assert.equal(got.join(' '), want);
      assert.equal(owners.openCount('web'), 0);
    });
  }

  it('keeps names apart', () => {
    const owners = new ActivityOwners<string>();
    owners.began('a', 'A');
    owners.began('b', 'B');
    assert.equal(owners.ended('b'), 'B');
    assert.equal(owners.ended('b'), undefined);
    assert.equal(owners.openCount('a'), 1);
  });
});
