import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_BODY_BYTES } from '../../src/api/body.js';
import { readSources } from '../../src/cli/commands/apply-sources.js';
import { locate, locateInSet } from '../../src/cli/commands/apply.js';
import { ApiError } from '../../src/cli/api-errors.js';
import { BadRequestError } from '../../src/errors.js';

describe('berth apply -f: reading the spec files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-apply-sources-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const refused = (pattern: RegExp) => (err: unknown) => err instanceof BadRequestError && pattern.test(err.message);

  it('reads a file whole up to the most the gateway takes', async () => {
    const path = join(dir, 'ok.yaml');
    await writeFile(path, `# ${'x'.repeat(MAX_BODY_BYTES - 3)}\n`);
    const [source] = await readSources([path]);
    assert.equal(source?.text.length, MAX_BODY_BYTES);
  });

  it('refuses a larger file with its name and the bound, without reading on', async () => {
    const path = join(dir, 'big.yaml');
    await writeFile(path, 'x'.repeat(MAX_BODY_BYTES + 1));
    await assert.rejects(readSources([path]), refused(new RegExp(`^${path}: larger than ${MAX_BODY_BYTES} bytes`)));
  });

  it('refuses a device that never ends (it ended in "Invalid string length")', async () => {
    await assert.rejects(readSources(['/dev/zero']), refused(/^\/dev\/zero: larger than/));
  });

  it('names the file a read error is about', async () => {
    await assert.rejects(readSources(['/nonexistent/app.yaml']), refused(/^\/nonexistent\/app\.yaml: no such file or directory/));
  });
});

// A refused apply named a policy problem "web.yaml: request body, document 2: network" and a parse
// problem of a second document "web.yaml: [1].routes[0].path": both now read as a config file's do.
describe('berth apply -f: where a refused spec is wrong', () => {
  const refusal = (problems: Array<[string, string]>, detail = problems.map(([p, m]) => `${p}: ${m}`).join('; ')) =>
    new ApiError(422, 'spec_invalid', detail, problems.map(([path, message]) => ({ path, message })));
  const cases: Array<[string, ApiError, string]> = [
    ['a field of the one document', refusal([['routes[0].path', 'must start with "/" (line 5)']]), 'web.yaml: routes[0].path: must start with "/" (line 5)'],
    ['a field of the second document', refusal([['[1].routes[0].path', 'must start with "/" (line 11)']]), 'web.yaml, document 2: routes[0].path: must start with "/" (line 11)'],
    ['a policy problem', refusal([['request body: network', 'not in policy.networks']]), 'web.yaml: network: not in policy.networks'],
    ['a policy problem of the second document', refusal([['request body, document 2: network', 'not in policy.networks']]), 'web.yaml, document 2: network: not in policy.networks'],
    ['two problems', refusal([['image', 'required'], ['[1].port', 'too big']]), 'web.yaml: image: required; web.yaml, document 2: port: too big'],
    // The other document a name clashes with was named "request body, document 1" in the file's own line.
    [
      'a name given twice',
      refusal([['request body, document 2: name', '"web" is also the name of request body, document 1; app names must be unique']]),
      'web.yaml, document 2: name: "web" is also the name of web.yaml, document 1; app names must be unique',
    ],
    // Said beside another document's problem, by the parser: at the document's index, as its other problems.
    [
      'a name given twice beside a field problem',
      refusal([['[2].port', 'must be at least 1 (line 15)'], ['[1].name', '"web" is also the name of request body, document 1; app names must be unique (line 7)']]),
      'web.yaml, document 3: port: must be at least 1 (line 15); web.yaml, document 2: name: "web" is also the name of web.yaml, document 1; app names must be unique (line 7)',
    ],
    ['no problems listed', new ApiError(400, 'bad_request', 'request body: not YAML (line 1)'), 'web.yaml: not YAML (line 1)'],
    ['a plain message', new ApiError(400, 'bad_request', 'the request body holds no app spec'), 'web.yaml: the request body holds no app spec'],
  ];
  for (const [what, err, said] of cases) {
    it(what, () => {
      const located = locate(err, 'web.yaml');
      assert.equal(located.message, said);
      assert.equal(located.code, err.code, 'the same code, so the same exit code');
    });
  }
});

// `berth apply -f dir/` with one app named in two files: each file passed alone, and the set's
// refusal was printed as the server said it, "request body, document 2: name: … request body, document 1".
describe('berth apply -f a.yaml -f b.yaml: where two files clash', () => {
  const shares = [
    { name: 'a.yaml', specs: 1 },
    { name: 'b.yaml', specs: 2 },
  ];
  it('names the file (and its document) of each side of a clash', () => {
    const err = new ApiError(422, 'spec_invalid', 'x', [
      { path: 'request body, document 3: name', message: '"web" is also the name of request body, document 1; app names must be unique' },
      { path: 'request body, document 2: routes[0]', message: 'app "api" has the same route as app "web" (its routes[0])' },
    ]);
    assert.equal(
      locateInSet(err, shares).message,
      'b.yaml, document 2: name: "web" is also the name of a.yaml; app names must be unique; b.yaml, document 1: routes[0]: app "api" has the same route as app "web" (its routes[0])',
    );
    assert.equal(locateInSet(err, shares).code, 'spec_invalid', 'the same code, so the same exit code');
  });
  it('leaves what names no document as it is', () => {
    const err = new ApiError(422, 'spec_invalid', 'x', [{ path: 'request body, document 9: name', message: 'm' }]);
    assert.equal(locateInSet(err, shares).message, 'request body, document 9: name: m');
  });
});
