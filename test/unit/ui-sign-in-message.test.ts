// The dashboard's sign-in message for each way a token can fail to get in: a wrong
// token, an address blocked after too many wrong ones (the gateway answered 429: it is
// up, and a valid token still works), and a gateway that did not answer at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';

interface ApiModule {
  ApiError: new (status: number, problem?: unknown) => Error;
  signInMessage: (err: unknown) => string;
}
// The dashboard's own module, as the browser loads it (from dist/test/unit/ to src/).
const api = (await import(new URL('../../../src/ui/static/js/api.js', import.meta.url).href)) as ApiModule;

test('sign-in: a wrong token is refused', () => {
  assert.equal(api.signInMessage(new api.ApiError(401, { code: 'unauthorized', detail: 'a valid bearer token is required' })), 'That token was refused.');
});

test('sign-in: a 429 after too many wrong tokens says so, not that the gateway did not answer', () => {
  const detail = 'too many failed authentications from this address; retry in 4s with a valid token';
  const message = api.signInMessage(new api.ApiError(429, { code: 'too_many_requests', detail }));
  assert.doesNotMatch(message, /did not answer/);
  assert.equal(message, `Refused for now: ${detail}.`);
});

test('sign-in: another refusal names its status; only a failed fetch is a gateway that did not answer', () => {
  assert.equal(api.signInMessage(new api.ApiError(503, { detail: 'the store is unavailable' })), 'The gateway refused the sign-in (503): the store is unavailable');
  assert.equal(api.signInMessage(new TypeError('Failed to fetch')), 'The gateway did not answer: Failed to fetch');
});
