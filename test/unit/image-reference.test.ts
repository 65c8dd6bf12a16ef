import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageReferenceProblem } from '../../src/spec/image-reference.js';

const HEX = 'a'.repeat(64);

describe('imageReferenceProblem: the distribution reference grammar', () => {
  const cases: Array<[ref: string, valid: boolean]> = [
    ['busybox', true],
    ['busybox:latest', true],
    ['library/busybox:1.36', true],
    ['berth-test/app:latest', true],
    ['registry.example.com/team/app:1.2', true],
    ['registry.example.com:5000/team/app:1.2', true],
    ['localhost:5000/app', true],
    ['localhost/app', true],
    ['[::1]:5000/app:tag', true],
    ['10.0.0.1:5000/a/b/c', true],
    [`app@sha256:${HEX}`, true],
    [`app:tag@sha256:${HEX}`, true],
    ['a__b/c.d-e---f:T_1.x-y', true],
    ['Registry.Example.com/app', true], // the domain may have capitals; the path may not
    [`app:${'t'.repeat(128)}`, true],
    ['', false],
    ['Busybox', false],
    ['team/App:1', false],
    ['app:', false],
    ['app: latest', false],
    ['app:latest\n', false],
    ['app\0', false],
    ['app:-tag', false],
    ['app:.tag', false],
    [`app:${'t'.repeat(129)}`, false],
    ['app@sha256:abc', false],
    [`app@sha512:${HEX}`, false],
    [`app@sha256:${'A'.repeat(64)}`, false],
    ['-app', false],
    ['app-', false],
    ['a..b', false],
    ['a/', false],
    ['/a', false],
    ['a//b', false],
    ['http://registry/app', false],
    ['app:tag:tag', false],
    ['registry:port/app', false],
    ['[::1/app', false],
    [`${'a'.repeat(256)}`, false],
    // The engine takes these for image IDs (a prefix of any local image's), not names.
    ['c6', false],
    ['cafe', false],
    [HEX, false],
    ['sha256:c683d2', false],
    [`sha256:${HEX}`, false],
    ['cafe:latest', true],
    ['team/cafe', true],
    ['cafe2go', true],
    ['sha256:v1', true],
  ];
  for (const [ref, valid] of cases) {
    it(`${valid ? 'accepts' : 'refuses'} ${JSON.stringify(ref.length > 60 ? `${ref.slice(0, 40)}…(${ref.length})` : ref)}`, () => {
      const problem = imageReferenceProblem(ref);
      if (valid) assert.equal(problem, undefined);
      else assert.equal(typeof problem, 'string');
    });
  }

  it('says why for the common slips', () => {
    assert.match(imageReferenceProblem(`app:${'t'.repeat(129)}`)!, /128/);
    assert.match(imageReferenceProblem('app@sha256:abc')!, /sha256/);
    assert.match(imageReferenceProblem('a b')!, /spaces/);
    assert.match(imageReferenceProblem('Busybox')!, /lowercase/);
    assert.match(imageReferenceProblem('cafe')!, /image it begins.*add the tag: "cafe:latest"/);
    assert.match(imageReferenceProblem('sha256:c683d2')!, /image ID.*name the image by repository/);
  });
});
