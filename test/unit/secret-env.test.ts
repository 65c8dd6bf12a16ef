import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildConfig } from '../../src/config/load-config.js';
import { BerthError, PolicyError, RuntimeError } from '../../src/errors.js';
import { LOG_REDACT_PATHS } from '../../src/log.js';
import { containerCreateOptions, envText } from '../../src/runtime/docker/container-config.js';
import { MAX_SECRET_FILE_BYTES, resolveSecretRefs, type SecretSources } from '../../src/runtime/secret-env.js';
import type { EnvValue } from '../../src/spec/env-value.js';
import { appSpec } from '../support/spec-fixture.js';

let dir = '';
let root = '';
before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'berth-secret-'));
  root = join(dir, 'secrets');
  await fs.mkdir(root);
  await fs.writeFile(join(root, 'db'), 'file-pw-123\n');
  await fs.writeFile(join(dir, 'outside'), 'outside-pw-456');
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function sources(extra: Partial<SecretSources['policy']> = {}, env: NodeJS.ProcessEnv = {}): SecretSources {
  return { policy: { secretFiles: [root], secretEnv: ['APP_*'], ...extra }, env };
}

/** The error of a resolution that must fail; its message must never carry a value. */
async function failure(env: Record<string, EnvValue>, src: SecretSources, values: string[] = []): Promise<BerthError> {
  try {
    await resolveSecretRefs('hello', env, src);
  } catch (err) {
    assert.ok(err instanceof BerthError, String(err));
    for (const value of values) assert.ok(!err.message.includes(value), `the message shows a value: ${err.message}`);
    return err;
  }
  assert.fail('resolved');
}

describe('resolveSecretRefs', () => {
  it('reads a file under a root (one final newline dropped) and a gateway variable; literals are not its business', async () => {
    const values = await resolveSecretRefs('hello', { F: { fromFile: join(root, 'db') }, E: { fromEnv: 'APP_PW' }, S: { secret: 'lit' }, P: 'plain' }, sources({}, { APP_PW: 'env-pw-789' }));
    assert.deepEqual(values, { F: 'file-pw-123', E: 'env-pw-789' });
  });

  it('denies references the policy does not allow, naming each field (deny by default)', async () => {
    const err = await failure({ F: { fromFile: join(root, 'db') }, E: { fromEnv: 'APP_PW' } }, { policy: {}, env: { APP_PW: 'x' } });
    assert.ok(err instanceof PolicyError);
    assert.deepEqual(err.problems.map((p) => p.path), ['env.F.fromFile', 'env.E.fromEnv']);
  });

  it('never reads BERTH_* variables, whatever the patterns', async () => {
    const err = await failure({ T: { fromEnv: 'BERTH_ADMIN_TOKEN' } }, sources({ secretEnv: ['*'] }, { BERTH_ADMIN_TOKEN: 'admin-tok' }), ['admin-tok']);
    assert.ok(err instanceof PolicyError);
    assert.match(err.message, /env\.T\.fromEnv/);
  });

  it('a missing file fails with the field and the path, never a value', async () => {
    const err = await failure({ DB_PASSWORD: { fromFile: join(root, 'nope') } }, sources());
    assert.ok(err instanceof RuntimeError);
    assert.equal(err.message, `env.DB_PASSWORD.fromFile: cannot read ${join(root, 'nope')}: no such file`);
  });

  it('a missing variable fails with the field and the name', async () => {
    const err = await failure({ DB_PASSWORD: { fromEnv: 'APP_MISSING' } }, sources());
    assert.equal(err.message, "env.DB_PASSWORD.fromEnv: the gateway's environment has no variable APP_MISSING");
  });

  it('a symbolic link under a root that points outside it is refused', async () => {
    await fs.symlink(join(dir, 'outside'), join(root, 'link'));
    const err = await failure({ L: { fromFile: join(root, 'link') } }, sources(), ['outside-pw-456']);
    assert.ok(err instanceof PolicyError);
    assert.match(err.message, /^env\.L\.fromFile: .* resolves to a path outside policy\.secretFiles/);
  });

  it('a root that is itself a link is resolved, and files under it are read', async () => {
    await fs.symlink(root, join(dir, 'root-link'));
    const values = await resolveSecretRefs('hello', { F: { fromFile: join(dir, 'root-link', 'db') } }, sources({ secretFiles: [join(dir, 'root-link')] }));
    assert.deepEqual(values, { F: 'file-pw-123' });
  });

  it('a root swapped for a link after the config was loaded is not followed (the roots resolved at load stand)', async () => {
    const swapped = join(dir, 'swapped');
    await fs.mkdir(swapped);
    const config = await buildConfig({ policy: { secretFiles: [swapped] } }, dir);
    assert.deepEqual(config.policy.secretFileRoots, [await fs.realpath(swapped)]);
    // Whoever can write the root's parent replaces the root by a link to where the gateway's other secrets are.
    await fs.rm(swapped, { recursive: true });
    await fs.symlink(dir, swapped);
    const err = await failure({ X: { fromFile: join(swapped, 'outside') } }, { policy: config.policy, env: {} }, ['outside-pw-456']);
    assert.ok(err instanceof PolicyError);
    assert.match(err.message, /^env\.X\.fromFile: .* resolves to a path outside policy\.secretFiles/);
  });

  it('a root that is a link when the config is loaded is resolved then, and files under it are read', async () => {
    const link = join(dir, 'root-link-at-load');
    await fs.symlink(root, link);
    const config = await buildConfig({ policy: { secretFiles: [link] } }, dir);
    assert.deepEqual(await resolveSecretRefs('hello', { F: { fromFile: join(link, 'db') } }, { policy: config.policy, env: {} }), { F: 'file-pw-123' });
  });

  it('refuses a directory and a FIFO without blocking', async () => {
    await fs.mkdir(join(root, 'sub'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    assert.match((await failure({ D: { fromFile: join(root, 'sub') } }, sources())).message, /env\.D\.fromFile: .* is not a regular file/);
    assert.match((await failure({ Q: { fromFile: join(root, 'fifo') } }, sources())).message, /env\.Q\.fromFile: .* is not a regular file/);
  });

  it('refuses a file larger than the limit', async () => {
    await fs.writeFile(join(root, 'big'), 'x'.repeat(MAX_SECRET_FILE_BYTES + 1));
    assert.match((await failure({ B: { fromFile: join(root, 'big') } }, sources())).message, /env\.B\.fromFile: .* is larger than 65536 bytes/);
  });

  it('refuses a value of more than one line, without showing it', async () => {
    await fs.writeFile(join(root, 'two-lines'), 'line-one-pw\nline-two-pw\n');
    const err = await failure({ M: { fromFile: join(root, 'two-lines') } }, sources(), ['line-one-pw', 'line-two-pw']);
    assert.match(err.message, /^env\.M\.fromFile: the file holds a line break or NUL/);
    const fromEnv = await failure({ N: { fromEnv: 'APP_NUL' } }, sources({}, { APP_NUL: 'a\0b' }));
    assert.match(fromEnv.message, /^env\.N\.fromEnv: variable APP_NUL holds a line break or NUL/);
  });
});

describe('containerCreateOptions: env with secrets', () => {
  it('puts plain values, secret literals and resolved references in Env', () => {
    const spec = appSpec('hello', { env: { P: 'plain', S: { secret: 'lit-pw' }, F: { fromFile: '/run/secrets/db' }, E: { fromEnv: 'APP_PW' } } });
    const o = containerCreateOptions(spec, 0, { secretValues: { F: 'file-pw', E: 'env-pw' } });
    assert.deepEqual(o.Env, ['E=env-pw', 'F=file-pw', 'P=plain', 'S=lit-pw']);
  });

  it('refuses to build a container whose reference was not resolved (it would start without its password)', () => {
    assert.throws(() => envText({ F: { fromFile: '/run/secrets/db' } }, {}), /env\.F is a reference that was not resolved/);
  });

  it('labels are the same whatever the resolved values are: the reference is what the hash sees', () => {
    const spec = appSpec('hello', { env: { F: { fromFile: '/run/secrets/db' } } });
    const a = containerCreateOptions(spec, 0, { secretValues: { F: 'one' } });
    const b = containerCreateOptions(spec, 0, { secretValues: { F: 'two' } });
    assert.deepEqual(a.Labels, b.Labels);
  });
});

describe('logs: the redact paths', () => {
  it('print env and spec.env as <redacted>', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const logger = pino({ redact: { paths: LOG_REDACT_PATHS, censor: '<redacted>' } }, sink);
    logger.info({ spec: { name: 'a', env: { P: 'log-pw-1' } }, env: { Q: 'log-pw-2' }, create: { Env: ['R=log-pw-3'] } }, 'x');
    assert.equal(lines.length, 1);
    assert.ok(!/log-pw/.test(lines[0]!), lines[0]);
    assert.match(lines[0]!, /"name":"a"/);
  });
});
