import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { TlsConfig } from '../../src/config/config.js';
import { WorkerEdge } from '../../src/cluster/worker-edge.js';
import { acmeAccountKey, acmeAccountThumbprint } from '../../src/tls/acme/acme-account.js';
import { loadAcmeLibrary } from '../../src/tls/acme/acme-http.js';
import { http01Answer } from '../../src/tls/acme/http01-answer.js';
import { TlsEdge } from '../../src/tls/tls-edge.js';

/**
 * Several gateways on one store: only the leader orders, and the CA's HTTP-01
 * request lands on whichever gateway the host's DNS or load balancer picks. The
 * gateways that did not order kept no token and answered 404, failing the order.
 * Every gateway signs as the store's one ACME account, so each answers any
 * well-formed token with `<token>.<account thumbprint>`, which must be exactly
 * the key authorization the ordering gateway's ACME client computes.
 */
const secret = randomBytes(32);
const store = { getOrCreateSecret: async (key: string) => (assert.equal(key, 'acme-account'), secret) };
const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';

describe('HTTP-01 answers on a gateway that did not order', () => {
  it('the thumbprint makes the key authorization acme-client makes for the same account and token', async () => {
    const acme = await loadAcmeLibrary();
    const client = new acme.Client({ directoryUrl: 'https://ca.invalid/directory', accountKey: await acmeAccountKey(store) });
    const expected = await client.getChallengeKeyAuthorization({ type: 'http-01', url: 'https://ca.invalid/chall/1', status: 'pending', token: TOKEN });
    const thumbprint = await acmeAccountThumbprint(store);
    assert.match(thumbprint, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(`${TOKEN}.${thumbprint}`, expected);
    // Another account's gateway answers differently: the answer proves this account only.
    const other = await acmeAccountThumbprint({ getOrCreateSecret: async () => randomBytes(32) });
    assert.notEqual(other, thumbprint);
  });

  const pending = new Map([[TOKEN, `${TOKEN}.pending-value`]]);
  const cases: Array<[name: string, token: string, anyToken: string | undefined, want: string | undefined]> = [
    ['a pending token: its own key authorization', TOKEN, 'thumb', `${TOKEN}.pending-value`],
    ['a pending token, one gateway', TOKEN, undefined, `${TOKEN}.pending-value`],
    ['an unknown token, one gateway: none (404)', 'A'.repeat(43), undefined, undefined],
    ['an unknown well-formed token, several gateways', 'A'.repeat(43), 'thumb', `${'A'.repeat(43)}.thumb`],
    ['the shortest token with 128 bits', 'a'.repeat(22), 'thumb', `${'a'.repeat(22)}.thumb`],
    ['too short to be a token', 'a'.repeat(21), 'thumb', undefined],
    ['too long', 'a'.repeat(257), 'thumb', undefined],
    ['empty', '', 'thumb', undefined],
    ['a dot (a key authorization, not a token)', `${'a'.repeat(30)}.b`, 'thumb', undefined],
    ['a slash', `${'a'.repeat(30)}/b`, 'thumb', undefined],
    ['percent-encoding', `${'a'.repeat(30)}%2f`, 'thumb', undefined],
    ['base64 padding and plus', `${'a'.repeat(30)}+/=`, 'thumb', undefined],
    ['markup', `<script>${'a'.repeat(30)}`, 'thumb', undefined],
    ['a line break', `${'a'.repeat(30)}\r\nX: y`, 'thumb', undefined],
  ];
  for (const [name, token, anyToken, want] of cases) {
    it(name, () => assert.equal(http01Answer(token, pending, anyToken), want));
  }

  it('the control edge answers any token once told the thumbprint, and hands it to proxy workers', () => {
    const config: TlsConfig = { listen: { host: '127.0.0.1', port: 0 }, certificates: [], redirect: false };
    let changed = 0;
    const edge = new TlsEdge(config, { logger: pino({ level: 'silent' }), specs: () => new Map(), tlsPort: () => 443, changed: () => void changed++ });
    assert.equal(edge.challenge(TOKEN), undefined, 'one gateway: only its own pending tokens');
    assert.equal(edge.snapshot().anyToken, undefined);
    edge.answerAnyToken('thumb');
    assert.equal(changed, 1, 'workers are told');
    assert.equal(edge.challenge(TOKEN), `${TOKEN}.thumb`);
    assert.equal(edge.challenge('../x'), undefined);
    const worker = new WorkerEdge(pino({ level: 'silent' }));
    assert.equal(worker.challenge(TOKEN), undefined);
    worker.apply(JSON.parse(JSON.stringify(edge.snapshot())));
    assert.equal(worker.challenge(TOKEN), `${TOKEN}.thumb`);
    edge.challenges.set(TOKEN, `${TOKEN}.own`);
    worker.apply(JSON.parse(JSON.stringify(edge.snapshot())));
    assert.equal(worker.challenge(TOKEN), `${TOKEN}.own`, 'a pending challenge is answered as the order made it');
  });
});
