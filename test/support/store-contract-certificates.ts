import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredCertificate } from '../../src/store/store.js';
import { withFixture, type FixtureFactory } from './store-contract.js';

const T0 = 1_700_000_000_000;

/** The ACME certificates part of the Store contract, for any store. */
export function certificatesContract(kind: string, make: FixtureFactory, skip: string | false = false): void {
  describe(`${kind} store contract: certificates`, { skip }, () => {
    const run = (fn: Parameters<typeof withFixture>[1]) => withFixture(make, fn);

    it('keeps a certificate and its order state across a reopen, and shares it with another gateway', () =>
      run(async (ctx) => {
        const issued: StoredCertificate = {
          host: 'a.example.com',
          certPem: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n',
          keyPem: '-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n',
          notAfter: new Date(T0 + 90 * 86_400_000),
          failures: 0,
          updatedAt: new Date(T0),
        };
        const failing: StoredCertificate = { host: 'b.example.com', lastError: 'urn:ietf:params:acme:error:dns: NXDOMAIN looking up A for b.example.com', failures: 3, retryAt: new Date(T0 + 60_000), updatedAt: new Date(T0 + 1) };
        await ctx.store.putCertificate(failing);
        await ctx.store.putCertificate(issued);
        assert.deepEqual(await (await ctx.reopen()).listCertificates(), [issued, failing], 'by host, every field as written');
        const other = await ctx.another();
        assert.deepEqual(await other.listCertificates(), [issued, failing]);
      }));

    it('replaces a host row whole: a success clears the failure, a failure keeps nothing it was not given', () =>
      run(async (ctx) => {
        await ctx.store.putCertificate({ host: 'a.example.com', lastError: 'rate limited', failures: 2, retryAt: new Date(T0), updatedAt: new Date(T0) });
        const renewed: StoredCertificate = { host: 'a.example.com', certPem: 'C', keyPem: 'K', notAfter: new Date(T0 + 1), failures: 0, updatedAt: new Date(T0 + 2) };
        await ctx.store.putCertificate(renewed);
        assert.deepEqual(await ctx.store.listCertificates(), [renewed]);
      }));
  });
}
