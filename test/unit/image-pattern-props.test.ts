// Properties of the policy's image patterns that a table cannot cover: a pattern naming
// one registry never allows another's images, and the spellings Docker reads as one
// image are allowed or refused together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { imageMatches } from '../../src/spec/image-pattern.js';

const component = fc.stringMatching(/^[a-z][a-z0-9]{0,4}$/);
const patternPart = fc.oneof(component, fc.constant('*'), fc.constant('**'), component.map((c) => `${c}*`));
const tag = fc.oneof(fc.constant(''), fc.constant(':latest'), fc.constant(':*'), fc.stringMatching(/^:[a-z0-9][a-z0-9.]{0,3}$/));
const imageTag = fc.oneof(fc.constant(''), fc.constant(':latest'), fc.stringMatching(/^:[a-z0-9][a-z0-9.]{0,3}$/));
const path = (part: fc.Arbitrary<string>) => fc.array(part, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const registry = fc.oneof(
  fc.tuple(component, fc.constantFrom('com', 'io', 'example.org')).map(([a, b]) => `${a}.${b}`),
  fc.constant('localhost'),
  fc.integer({ min: 1, max: 65535 }).map((port) => `localhost:${port}`),
  fc.constant('ghcr.io'),
);
// Names the engine could take for an image ID are refused outright; keep them out so the property is about patterns.
const notHex = (name: string) => !/^(?:sha256:)?[a-f0-9]+$/.test(name.split(':')[0]!);

test('a pattern naming Docker Hub never allows an image of another registry', () => {
  fc.assert(
    fc.property(fc.constantFrom('docker.io/', 'index.docker.io/', 'docker.io/library/'), path(patternPart), tag, registry, path(component), imageTag, (hub, rest, t, host, name, it) => {
      const pattern = `${hub}${rest}${t}`;
      const image = `${host}/${name}${it}`;
      assert.equal(imageMatches(pattern, image), false, `${pattern} allowed ${image}`);
    }),
    { seed: 7, numRuns: 2_000 },
  );
});

test('a pattern naming one registry never allows another registry (nor Docker Hub)', () => {
  fc.assert(
    fc.property(registry, registry, path(patternPart), tag, path(component), imageTag, (mine, theirs, rest, t, name, it) => {
      fc.pre(mine !== theirs);
      const pattern = `${mine}/${rest}${t}`;
      assert.equal(imageMatches(pattern, `${theirs}/${name}${it}`), false, `${pattern} allowed ${theirs}/${name}${it}`);
      fc.pre(notHex(name));
      assert.equal(imageMatches(pattern, `${name}${it}`), false, `${pattern} allowed Docker Hub's ${name}${it}`);
    }),
    { seed: 11, numRuns: 2_000 },
  );
});

test("one Docker Hub image in its spellings is allowed or refused as one, whatever the pattern", () => {
  const anyPattern = fc.oneof(
    fc.tuple(path(patternPart), tag).map(([p, t]) => `${p}${t}`),
    fc.tuple(fc.constantFrom('docker.io/', 'index.docker.io/', 'docker.io/library/', 'library/'), path(patternPart), tag).map(([h, p, t]) => `${h}${p}${t}`),
  );
  fc.assert(
    fc.property(anyPattern, component, imageTag, (pattern, name, it) => {
      fc.pre(notHex(name));
      const spellings = [`${name}${it}`, `library/${name}${it}`, `docker.io/library/${name}${it}`, `index.docker.io/library/${name}${it}`];
      if (it === '') spellings.push(`${name}:latest`, `docker.io/library/${name}:latest`);
      const verdicts = spellings.map((image) => imageMatches(pattern, image));
      assert.ok(verdicts.every((v) => v === verdicts[0]), `${pattern}: ${spellings.map((s, i) => `${s}=${verdicts[i]}`).join(', ')}`);
    }),
    { seed: 13, numRuns: 3_000 },
  );
});
