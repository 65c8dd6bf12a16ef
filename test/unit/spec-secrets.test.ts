import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyError, SpecError } from '../../src/errors.js';
import { diffAppSpecs } from '../../src/gateway/spec-diff.js';
import { REDACTED, redactSpec } from '../../src/spec/env-value.js';
import { containerSpecHash, specHash } from '../../src/spec/hash.js';
import { appSpecJsonSchema } from '../../src/spec/json-schema.js';
import { parseSpecObject } from '../../src/spec/parse.js';
import { envNameAllowed, secretRefIssues } from '../../src/spec/secret-policy.js';
import type { AppSpec, DockerPolicy } from '../../src/spec/types.js';
import { validateAppSet } from '../../src/spec/validate-set.js';

const minimal = { apiVersion: 'berth/v1', name: 'hello', image: 'berth-example/hello:latest', port: 8080 };

function withEnv(env: unknown): AppSpec {
  return parseSpecObject({ ...minimal, env });
}

function problemsOf(doc: unknown): string[] {
  try {
    parseSpecObject(doc);
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('the spec was accepted');
}

describe('secret env values: accepted forms and their normal form', () => {
  const cases: Array<[string, unknown, unknown]> = [
    ['a plain string', 'hi', 'hi'],
    ['a number, as text', 8080, '8080'],
    ['a boolean, as text', true, 'true'],
    ['a secret literal', { secret: 's3cr3t' }, { secret: 's3cr3t' }],
    ['a numeric secret literal, as text', { secret: 1234 }, { secret: '1234' }],
    ['a file reference', { fromFile: '/run/secrets/db' }, { fromFile: '/run/secrets/db' }],
    ['a gateway variable reference', { fromEnv: 'DB_PASSWORD' }, { fromEnv: 'DB_PASSWORD' }],
  ];
  for (const [what, value, normal] of cases) {
    it(`berth/v1 takes ${what}`, () => assert.deepEqual(withEnv({ X: value }).env, { X: normal }));
  }

  it('SWS v1 takes the same value forms in env[].value', () => {
    const spec = parseSpecObject({
      apiVersion: 'v1',
      spec: { name: 'hello', image: 'x', port: 80, domain: 'hello.example.com', env: [{ name: 'P', value: { secret: 's' } }, { name: 'Q', value: 1 }] },
    });
    assert.deepEqual(spec.env, { P: { secret: 's' }, Q: '1' });
  });
});

describe('secret env values: refused, naming the field', () => {
  const cases: Array<[string, unknown, string[]]> = [
    ['a relative file', { fromFile: 'secrets/db' }, ['env.DB_PASSWORD.fromFile: must be an absolute path (start with "/")']],
    ['a bad variable name', { fromEnv: 'db-password' }, ['env.DB_PASSWORD.fromEnv: must be an environment variable name']],
    ['no source', {}, ['env.DB_PASSWORD: must have exactly one of secret, fromFile or fromEnv']],
    ['two sources', { secret: 'a', fromEnv: 'B' }, ['env.DB_PASSWORD: must have exactly one of secret, fromFile or fromEnv']],
    ['a misspelt key', { fromFle: '/x' }, ['env.DB_PASSWORD.fromFle: unknown field (did you mean "fromFile"?)']],
    ['a list', [1], ['env.DB_PASSWORD: must be a string, number or boolean, or an object with one of secret, fromFile or fromEnv']],
    ['null', null, ['env.DB_PASSWORD: must be a string, number or boolean, or an object with one of secret, fromFile or fromEnv']],
    ['the redaction marker as a secret', { secret: REDACTED }, [`env.DB_PASSWORD.secret: is "${REDACTED}", the marker berth shows in place of a secret; write the real value`]],
    ['a secret literal of two lines', { secret: 'a\nb' }, ['env.DB_PASSWORD.secret: must not contain control characters: a line feed (LF) at position 1']],
    ['a secret literal with NUL', { secret: 'a\0b' }, ['env.DB_PASSWORD.secret: must not contain control characters: NUL at position 1']],
    ['the redaction marker as a plain value', REDACTED, [`env.DB_PASSWORD: is "${REDACTED}", the marker berth shows in place of a secret; write the real value`]],
  ];
  for (const [what, value, expected] of cases) {
    it(`refuses ${what}`, () => assert.deepEqual(problemsOf({ ...minimal, env: { DB_PASSWORD: value } }), expected));
  }

  it('refuses a bad reference in SWS at the SWS path', () => {
    const doc = { apiVersion: 'v1', spec: { name: 'hello', image: 'x', port: 80, domain: 'hello.example.com', env: [{ name: 'P', value: { fromFile: 'rel' } }] } };
    assert.deepEqual(problemsOf(doc), ['spec.env[0].value.fromFile: must be an absolute path (start with "/")']);
  });

  it('never echoes a secret literal in a message', () => {
    const problems = problemsOf({ ...minimal, env: { A: { secret: 'hunter2', extra: 1 } } });
    assert.ok(problems.length > 0);
    assert.ok(problems.every((p) => !p.includes('hunter2')), problems.join('; '));
  });
});

describe('secret env values: the gateway policy (deny by default)', () => {
  const refs = withEnv({ F: { fromFile: '/run/secrets/db' }, E: { fromEnv: 'APP_DB_PASSWORD' }, S: { secret: 'x' }, P: 'plain' });

  it('denies every reference under the default (empty) policy, by field', () => {
    assert.deepEqual(
      secretRefIssues('hello', refs.env, {}).map((i) => i.path.join('.')),
      ['env.F.fromFile', 'env.E.fromEnv'],
    );
  });

  it('allows a file under a root and a variable matching a pattern', () => {
    assert.deepEqual(secretRefIssues('hello', refs.env, { secretFiles: ['/run/secrets'], secretEnv: ['APP_*'] }), []);
  });

  it('compares paths after resolving "..", so a reference cannot climb out of a root', () => {
    // The spec schema refuses ".." segments already; the policy does not rely on it.
    assert.deepEqual(problemsOf({ ...minimal, env: { F: { fromFile: '/run/secrets/../x' } } }), ['env.F.fromFile: must not contain empty, "." or ".." segments']);
    assert.equal(secretRefIssues('hello', { F: { fromFile: '/run/secrets/../../etc/shadow' } }, { secretFiles: ['/run/secrets'] }).length, 1);
  });

  const names: Array<[string, string[], boolean]> = [
    ['APP_DB', ['APP_*'], true],
    ['APP_DB', ['APP_DB'], true],
    ['APPX', ['APP_*'], false],
    ['OTHER', ['APP_*'], false],
    ['ANY', ['*'], true],
    ['BERTH_ADMIN_TOKEN', ['*'], false],
    ['BERTH_ADMIN_TOKEN', ['BERTH_ADMIN_TOKEN'], false],
    ['A.B', ['A?B'], false],
    // The gateway's own store and engine connections: never by a wildcard, only by the name itself.
    ['PGPASSWORD', ['*'], false],
    ['PGPASSWORD', ['PG*'], false],
    ['PGHOST', ['P*'], false],
    ['DOCKER_HOST', ['*'], false],
    ['DOCKER_CERT_PATH', ['DOCKER_*'], false],
    ['PGPASSWORD', ['PGPASSWORD'], true],
    ['DOCKER_HOST', ['APP_*', 'DOCKER_HOST'], true],
    ['PGAPP_TOKEN', ['APP_*'], false],
  ];
  for (const [name, patterns, allowed] of names) {
    it(`${allowed ? 'allows' : 'denies'} ${name} under ${JSON.stringify(patterns)}`, () => assert.equal(envNameAllowed(name, patterns), allowed));
  }

  it('a wildcard that would reach the store password says why, and how to allow it', () => {
    const [issue] = secretRefIssues('hello', { DB: { fromEnv: 'PGPASSWORD' } }, { secretEnv: ['*'] });
    assert.deepEqual(issue?.path, ['env', 'DB', 'fromEnv']);
    assert.match(issue?.message ?? '', /^variable PGPASSWORD of app "hello": the gateway's own store and engine variables \(PG\*, DOCKER_\*\) are given only when policy\.secretEnv lists the name itself/);
    assert.deepEqual(secretRefIssues('hello', { DB: { fromEnv: 'PGPASSWORD' } }, { secretEnv: ['PGPASSWORD'] }), []);
  });

  it('validateAppSet refuses a denied reference with 403 (PolicyError) naming the field', () => {
    const policy: DockerPolicy = { images: [], networks: [], bindMountRoots: [], allowPrivileged: false, capabilities: [], allowHostNetwork: false, allowHostPid: false, secretFiles: ['/srv/secrets'] };
    assert.throws(
      () => validateAppSet([withEnv({ DB_PASSWORD: { fromFile: '/etc/shadow' } })], policy),
      (err: unknown) => err instanceof PolicyError && err.problems[0]?.path === 'apps[0].env.DB_PASSWORD.fromFile' && /policy\.secretFiles \(\/srv\/secrets\)/.test(err.problems[0].message),
    );
  });
});

describe('secret env values: hashes, redaction and the apply diff', () => {
  it('a changed secret literal changes both hashes, so the update rolls out', () => {
    const a = withEnv({ P: { secret: 'one' } });
    const b = withEnv({ P: { secret: 'two' } });
    assert.notEqual(specHash(a), specHash(b));
    assert.notEqual(containerSpecHash(a), containerSpecHash(b));
  });

  it('a changed reference changes the container hash', () => {
    assert.notEqual(containerSpecHash(withEnv({ P: { fromFile: '/a' } })), containerSpecHash(withEnv({ P: { fromFile: '/b' } })));
  });

  it('redactSpec replaces secret literals only; references and plain values stay', () => {
    const spec = withEnv({ S: { secret: 'hunter2' }, F: { fromFile: '/run/secrets/db' }, E: { fromEnv: 'APP_X' }, P: 'plain' });
    assert.deepEqual(redactSpec(spec).env, { S: { secret: REDACTED }, F: { fromFile: '/run/secrets/db' }, E: { fromEnv: 'APP_X' }, P: 'plain' });
    assert.deepEqual(spec.env.S, { secret: 'hunter2' }, 'the spec itself is untouched');
  });

  it('the diff of a created app shows no secret literal', () => {
    const changes = diffAppSpecs(undefined, withEnv({ S: { secret: 'hunter2' } }));
    assert.ok(!JSON.stringify(changes).includes('hunter2'));
    assert.ok(JSON.stringify(changes).includes(REDACTED));
  });

  const updates: Array<[string, unknown, unknown, unknown[]]> = [
    ['a changed secret', { secret: 'old-pw' }, { secret: 'new-pw' }, [{ path: 'env.S.secret', from: REDACTED, to: REDACTED }]],
    ['plain to secret', 'old-pw', { secret: 'new-pw' }, [{ path: 'env.S', from: 'old-pw', to: { secret: REDACTED } }]],
    ['secret to plain', { secret: 'old-pw' }, 'new-pw', [{ path: 'env.S', from: { secret: REDACTED }, to: 'new-pw' }]],
    ['secret to file', { secret: 'old-pw' }, { fromFile: '/f' }, [{ path: 'env.S.fromFile', to: '/f' }, { path: 'env.S.secret', from: REDACTED }]],
    ['an unchanged secret', { secret: 'old-pw' }, { secret: 'old-pw' }, []],
  ];
  for (const [what, from, to, expected] of updates) {
    it(`the diff of ${what} shows no literal`, () => {
      const changes = diffAppSpecs(withEnv({ S: from }), withEnv({ S: to }));
      assert.deepEqual(changes, expected);
      for (const side of [from, to]) {
        if (typeof side === 'object') assert.ok(!JSON.stringify(changes).includes((side as { secret?: string }).secret ?? '\0'), 'no secret literal in the diff');
      }
    });
  }
});

describe('secret env values: the JSON Schema', () => {
  it('offers the plain and the secret forms of an env value', () => {
    const env = (appSpecJsonSchema().properties as Record<string, any>).env;
    const [plain, secret] = env.additionalProperties.anyOf;
    assert.deepEqual(plain.type, ['string', 'number', 'boolean']);
    assert.deepEqual(Object.keys(secret.properties).sort(), ['fromEnv', 'fromFile', 'secret']);
    assert.equal(secret.additionalProperties, false);
    assert.equal(secret.maxProperties, 1);
    assert.equal(secret.minProperties, 1);
  });
});
