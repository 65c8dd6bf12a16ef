/**
 * Properties of the spec boundary over generated input: whatever a client sends, it
 * parses to a spec or is refused with a SpecError naming where; never anything else
 * (which the API answers as a 500 and the log as a crash).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SpecError } from '../../src/errors.js';
import { formatDuration, parseDuration } from '../../src/spec/duration.js';
import { parseCntSpawnerBody, parseSpecObject, parseSpecText } from '../../src/spec/parse.js';
import { parseSize, sizeText } from '../../src/spec/size.js';
import { parseTraefikRule } from '../../src/spec/traefik-rule.js';

/** Runs `parse`; true when it gave a value or a SpecError with at least one located problem. */
function parsesOrRefuses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (err) {
    if (err instanceof SpecError && err.problems.length > 0 && err.problems.every((p) => p.path !== '')) return true;
    throw err;
  }
}

// Quoted arguments with escapes Go's strconv.Unquote reads (Traefik v2) but JSON does not, raw control characters, and plain ones.
const quotedPiece = fc.constantFrom('a', '/x', '.', '\\"', '\\\\', '\\n', '\\x41', '\\u12', '\\u0041', '\\q', '\n', '\t', '`', ',');
const argument = fc.oneof(
  fc.array(quotedPiece, { maxLength: 4 }).map((p) => `"${p.join('')}"`),
  fc.array(quotedPiece, { maxLength: 4 }).map((p) => `\`${p.join('').replaceAll('`', '')}\``),
);
const term = fc.tuple(fc.constantFrom('Host', 'PathPrefix', 'Path', 'Method'), fc.array(argument, { minLength: 1, maxLength: 2 })).map(([m, args]) => `${m}(${args.join(', ')})`);
const rule = fc.array(fc.array(term, { minLength: 1, maxLength: 2 }).map((t) => t.join(' && ')), { minLength: 1, maxLength: 2 }).map((a) => a.join(' || '));

describe('parseTraefikRule over generated rules', () => {
  it('reads a rule or says why not; it never throws', () => {
    fc.assert(
      fc.property(rule, (text) => {
        const result = parseTraefikRule(text);
        assert.equal(typeof result.ok, 'boolean');
        if (!result.ok) assert.ok(result.message.length > 0);
      }),
      { numRuns: 300 },
    );
  });

  it('a cntSpawner body with any rule label parses or is refused at the label', () => {
    fc.assert(
      fc.property(rule, (text) => parsesOrRefuses(() => parseCntSpawnerBody({ name: 'minion-1', image: 'minionapp:latest', labels: { 'traefik.http.routers.m.rule': text } }, 'body'))),
      { numRuns: 100 },
    );
  });
});

// Values of every kind, and the spellings the fields' parsers work hardest on.
const awkward = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(1e308, -0, -1, 0.5, '1e400', '99999999999999999999d', '1.5GiB', '0', '', '/', '/a//b', '/a/%2e%2e/', '*.x', 'x..y', [], {}, [{}], [{ path: '/a' }], { min: 1e300 }),
);
const fields = ['routes', 'env', 'volume', 'command', 'scale', 'idleTimeout', 'startTimeout', 'timeouts', 'readiness', 'resources', 'waiting', 'balance', 'health', 'strategy', 'input', 'dependsOn', 'idleAction', 'removeAfter', 'queueSize', 'waitingPage', 'hsts', 'network', 'mounts', 'security', 'labels', 'port'];

describe('spec documents over generated values', () => {
  it('a berth/v1 document with any values in its fields parses or is refused naming a path', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...fields), awkward, { maxKeys: 4 }), (extra) =>
        parsesOrRefuses(() => parseSpecObject({ apiVersion: 'berth/v1', name: 'app', image: 'img:1', ...extra })),
      ),
      { numRuns: 150 },
    );
  });

  it('any JSON text parses or is refused naming a path', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), (text) => parsesOrRefuses(() => parseSpecText(text, 'body'))),
      { numRuns: 60 },
    );
  });
});

describe('durations and sizes', () => {
  it('a duration prints as one that parses back to the same milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (ms) => {
        assert.equal(parseDuration(formatDuration(ms)), ms);
      }),
      { numRuns: 500 },
    );
  });

  it('a size prints as one that parses back to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.constantFrom(2 ** 10, 2 ** 20, 2 ** 30, 2 ** 40)).map(([n, f]) => n * f)), (bytes) => {
        assert.equal(parseSize(sizeText(bytes)), bytes);
      }),
      { numRuns: 500 },
    );
  });
});
