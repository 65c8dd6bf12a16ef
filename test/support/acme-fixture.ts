import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Store } from '../../src/store/store.js';
import { AcmeManager, type AcmeManagerOptions } from '../../src/tls/acme/acme-manager.js';
import { makeCa, makeLeaf } from './openssl-certs.js';

/** The one host the ACME unit tests keep a certificate for. */
export const ACME_TEST_HOST = 'a.example.com';

/** What a stand-in CA issues for ACME_TEST_HOST (PEM), made by openssl in a temp directory; dispose() removes it. */
export async function issuedCertificate(): Promise<{ certPem: string; keyPem: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-acme-'));
  const files = await makeLeaf(dir, await makeCa(dir), 'a', [ACME_TEST_HOST]);
  return { certPem: await readFile(files.cert, 'utf8'), keyPem: await readFile(files.key, 'utf8'), dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** An ACME manager for ACME_TEST_HOST on `store` whose orders `obtain` answers (no CA), with any option of `more`. */
export function testAcmeManager(store: Store, obtain: AcmeManagerOptions['obtain'], more: Partial<AcmeManagerOptions> = {}): AcmeManager {
  return new AcmeManager({
    config: { email: 'ops@example.com', directory: 'https://ca.invalid/directory', renewBeforeMs: 30 * 86_400_000, checkEveryMs: 3_600_000 },
    store,
    logger: pino({ level: 'silent' }),
    challenges: new Map(),
    hosts: () => [ACME_TEST_HOST],
    coveredByFile: () => false,
    changed: () => undefined,
    obtain,
    ...more,
  });
}
