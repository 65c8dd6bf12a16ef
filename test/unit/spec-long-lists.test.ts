// One spec with a list far longer than any needs (a 1 MiB body holds 250,000 dependsOn
// names): apply answered 500, its stack overflowed where the gateway gathered the stored
// apps the set check must see (DesiredIndex.related spread the list as arguments); and the
// set check listed every problem, a 20 MB refusal, where a document's own are cut at 200.
// One spec of 50,000 routes was applied, holding the event loop (and the proxy) a second:
// a spec text's lists are now bounded as its mappings are.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError } from '../../src/errors.js';
import { DesiredIndex } from '../../src/gateway/desired-index.js';
import { MAX_LIST_ITEMS } from '../../src/spec/nesting-depth.js';
import { MAX_LISTED_PROBLEMS, parseSpecText } from '../../src/spec/parse.js';
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

describe('a spec text with a list longer than MAX_LIST_ITEMS', () => {
  const web = 'apiVersion: berth/v1\nname: web\nimage: example/web:1\nport: 8080\n';

  it('is refused unread, naming the line of the list, in YAML and JSON', () => {
    const cases: Array<[string, string, number]> = [
      ['a block list of routes', `${web}routes:\n${'  - {path: /p/}\n'.repeat(MAX_LIST_ITEMS + 1)}`, 6],
      ['a flow list of arguments', `${web}command: [${Array(MAX_LIST_ITEMS + 1).fill('a').join(', ')}]\n`, 5],
      ['a JSON array', JSON.stringify({ apiVersion: 'berth/v1', name: 'web', image: 'example/web:1', port: 8080, dependsOn: Array(MAX_LIST_ITEMS + 1).fill('db') }), 1],
    ];
    for (const [what, text, line] of cases) {
      assert.throws(
        () => parseSpecText(text, 'web.yaml'),
        (err: unknown) => {
          assert.ok(err instanceof SpecError, `${what}: ${String(err)}`);
          assert.deepEqual(err.problems, [{ path: '(document)', message: `the YAML has a list of more than ${MAX_LIST_ITEMS} items (line ${line}); no spec needs that` }], what);
          return true;
        },
      );
    }
  });

  it('as many items as the limit are read', () => {
    const [spec] = parseSpecText(`${web}command: [${Array(MAX_LIST_ITEMS).fill('a').join(', ')}]\n`, 'web.yaml');
    assert.equal(spec!.command!.length, MAX_LIST_ITEMS);
  });
});
