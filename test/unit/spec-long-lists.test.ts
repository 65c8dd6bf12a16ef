// One spec with a list far longer than any needs (a 1 MiB body holds 250,000 dependsOn
// names): apply answered 500, its stack overflowed where the gateway gathered the stored
// apps the set check must see (DesiredIndex.related spread the list as arguments); and the
// set check listed every problem, a 20 MB refusal, where a document's own are cut at 200.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError } from '../../src/errors.js';
import { DesiredIndex } from '../../src/gateway/desired-index.js';
import { MAX_LISTED_PROBLEMS } from '../../src/spec/parse.js';
import { validateAppSet } from '../../src/spec/validate-set.js';
import { appSpec } from '../support/spec-fixture.js';

const LONG = 250_000;

describe('a spec with a very long dependsOn', () => {
  it('the stored apps its apply must see are found without overflowing the stack', () => {
    const index = new DesiredIndex();
    index.set(appSpec('db'));
    index.set(appSpec('cache', { dependsOn: Array.from({ length: LONG }, () => 'db') }));
    const incoming = appSpec('web', { dependsOn: Array.from({ length: LONG }, (_, i) => (i % 2 === 0 ? 'cache' : 'db')) });
    assert.deepEqual(index.related([incoming]).map((spec) => spec.name), ['cache', 'db']);
  });

  it('the set check lists the first problems and counts the rest', () => {
    const spec = appSpec('web', { dependsOn: Array.from({ length: LONG }, () => 'nope') });
    assert.throws(
      () => validateAppSet([spec]),
      (err: unknown) => {
        assert.ok(err instanceof SpecError, String(err));
        assert.equal(err.problems.length, MAX_LISTED_PROBLEMS + 1);
        assert.deepEqual(err.problems.at(-1), { path: '(more)', message: `${LONG - MAX_LISTED_PROBLEMS} more problems not listed; fix these first` });
        assert.ok(err.message.length < 100_000, `${err.message.length} characters`);
        return true;
      },
    );
  });
});
