import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientClosedError, EngineUnavailableError, ERROR_CATALOGUE, exitCodeOf, ForbiddenError, httpStatusOf, NoRouteError, StartFailedError, type ErrorCode } from '../../src/errors.js';
import { problemFor, problemJson, problemOf, rawProblemResponse } from '../../src/api/problem.js';
import { apiErrorOf } from '../../src/cli/api-errors.js';
import { CrashLoopError, QueueFullError } from '../../src/activator/start-errors.js';

/** [code, HTTP status, CLI exit code, title]: the whole contract, one row each. */
const table: Array<[ErrorCode, number, number, string]> = [
  ['bad_request', 400, 2, 'Bad request'],
  ['config_invalid', 400, 2, 'Invalid configuration'],
  ['spec_invalid', 422, 2, 'Unprocessable spec'],
  ['not_found', 404, 3, 'Not found'],
  ['no_route', 404, 3, 'No app here'],
  ['method_not_allowed', 405, 2, 'Method not allowed'],
  ['request_timeout', 408, 1, 'Request timeout'],
  ['client_body_timeout', 408, 1, 'Request body timeout'],
  ['conflict', 409, 4, 'Conflict'],
  ['payload_too_large', 413, 2, 'Payload too large'],
  ['unsupported_media_type', 415, 2, 'Unsupported media type'],
  ['expectation_failed', 417, 2, 'Expectation failed'],
  ['misdirected_request', 421, 2, 'Misdirected request'],
  ['too_many_requests', 429, 5, 'Too many requests'],
  ['too_many_headers', 431, 2, 'Request header fields too large'],
  ['unauthorized', 401, 5, 'Unauthorized'],
  ['forbidden', 403, 5, 'Forbidden'],
  ['policy_denied', 403, 2, 'Denied by policy'],
  ['client_closed', 499, 1, 'Client closed request'],
  ['internal', 500, 6, 'Internal error'],
  ['store_error', 500, 6, 'Store error'],
  ['runtime_error', 502, 6, 'Runtime error'],
  ['start_failed', 502, 6, 'App failed to start'],
  ['upstream_unavailable', 502, 6, 'Bad gateway'],
  ['overloaded', 503, 6, 'Service unavailable'],
  ['engine_unavailable', 503, 6, 'Engine unavailable'],
  ['store_unavailable', 503, 6, 'Store unavailable'],
  ['upstream_timeout', 504, 6, 'Gateway timeout'],
];

test('the table covers the whole catalogue, once', () => {
  assert.deepEqual(table.map(([code]) => code).sort(), Object.keys(ERROR_CATALOGUE).sort());
});

for (const [code, status, exit, title] of table) {
  test(`${code} → HTTP ${status}, exit ${exit}, "${title}"; the CLI reads its own answer back to the same exit code`, () => {
    assert.deepEqual(ERROR_CATALOGUE[code], { status, exit, title });
    const body = JSON.parse(problemJson(problemFor(code, 'why'))) as Record<string, unknown>;
    assert.deepEqual(body, { type: `urn:berth:${code}`, title, status, code, detail: 'why' });
    if (code !== 'client_closed') assert.equal(exitCodeOf(apiErrorOf(status, JSON.stringify(body), 'hint')), exit);
  });
}

test('the new error classes carry their codes and statuses', () => {
  assert.equal(httpStatusOf(new NoRouteError('x')), 404);
  assert.equal(new NoRouteError('x').code, 'no_route');
  assert.equal(new StartFailedError('web', 'exited with code 3', false).code, 'start_failed');
  assert.equal(new StartFailedError('web', 'not ready in time', true).code, 'upstream_timeout');
  assert.equal(new ClientClosedError().code, 'client_closed');
  assert.equal(httpStatusOf(new ForbiddenError('x')), 403);
  assert.equal(exitCodeOf(new EngineUnavailableError('engine down', 5)), 6);
  assert.equal(exitCodeOf(new Error('a bug')), 1);
});

test('Retry-After is a field of the error type and every writer sends it', () => {
  const errors = [new EngineUnavailableError('engine down', 5), new CrashLoopError('web', 'boom', 8), new QueueFullError('web', 10)];
  assert.deepEqual(errors.map((e) => e.retryAfterS), [5, 8, 1]);
  const raw = rawProblemResponse(problemOf(errors[0]), ['x-extra', 'y']);
  assert.match(raw, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(raw, /\r\nretry-after: 5\r\n/);
  assert.match(raw, /\r\nx-extra: y\r\nconnection: close\r\n\r\n\{/);
  assert.equal((JSON.parse(raw.split('\r\n\r\n')[1]!) as { code: string }).code, 'engine_unavailable');
});

test('an unplanned error is internal, its message kept out of the answer', () => {
  const problem = problemOf(new Error('secret path /etc/x'));
  assert.equal(problem.status, 500);
  assert.equal(problem.code, 'internal');
  assert.doesNotMatch(problem.detail, /secret/);
});
