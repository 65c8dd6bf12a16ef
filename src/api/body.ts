import { jsonNestsDeeperThan, MAX_NESTING_DEPTH } from '../spec/nesting-depth.js';
import type { IncomingMessage } from 'node:http';
import type { RouteDef } from './route-def.js';
import { BadRequestError, BerthError, ClientClosedError } from '../errors.js';
import { unknownFieldMessage } from '../spec/suggest.js';
import { specText } from '../spec/utf8-text.js';
import { sendContinue } from '../net/expect-continue.js';
import { MAX_BODY_BYTES } from './body-limit.js';

export { MAX_BODY_BYTES };

/**
 * Reads the whole request body, refusing more than `limit` bytes with 413
 * (payload_too_large, as the catalogue has it; it was a bare 400). A body whose
 * Content-Length says it is too large is refused before a byte of it is read, and
 * before its client, if it waits for a 100 Continue, is asked to send it.
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  // Only now is a client waiting on `Expect: 100-continue` asked for its body: every refusal came before.
  sendContinue(req);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (err) {
    // The body's stream fails only when its client leaves before sending all of it (Node's
    // 'aborted'): that is the client's doing, answered to nobody, not a failure of the gateway.
    if (err instanceof BerthError) throw err;
    throw new ClientClosedError('the client left before its request body was complete');
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): BerthError {
  return new BerthError('payload_too_large', `the request body is larger than ${limit} bytes; send fewer specs at a time`);
}

/** What an operation that takes no body reads of one anyway, at most: enough for any `{}` with blanks. */
export const UNTAKEN_BODY_BYTES = 64 * 1024;

/**
 * Why a body sent to an operation that takes none is refused, or undefined when
 * it says nothing: empty, blanks, or `{}` (what some clients send anyway). The
 * rest was ignored without a word, so `DELETE /v1/apps/web` with
 * `{"purgeVolumes": true}` kept the volume its sender meant gone. Pure.
 */
export function untakenBodyProblem(body: Buffer, route: Pick<RouteDef, 'method' | 'path' | 'query'>): string | undefined {
  const text = body.toString('utf8').replace(/^\uFEFF/, '').trim();
  if (text === '' || /^\{\s*\}$/.test(text)) return undefined;
  const options = Object.keys(route.query ?? {});
  const hint = options.length > 0 ? `; its options are query parameters (${options.map((o) => `?${o}=`).join(', ')})` : '';
  return `${route.method} ${route.path} takes no request body${hint}`;
}

/** Parses a JSON body, saying where it is malformed. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new BadRequestError('the request body is empty; send JSON');
  const decoded = specText(body);
  if (!decoded.ok) throw new BadRequestError(`the request body is ${decoded.message}`);
  // A byte order mark (what Windows editors and PowerShell put first) says nothing; a spec body's is skipped too.
  const text = decoded.text.startsWith('\uFEFF') ? decoded.text.slice(1) : decoded.text;
  // Parsing copes with any depth, but what walks the value afterwards recurses.
  if (jsonNestsDeeperThan(text)) throw new BadRequestError(`the request body is nested more than ${MAX_NESTING_DEPTH} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  // JSON.parse keeps the last of a key given twice without a word ({"replicas":1,"replicas":50} scaled to 50); a spec body refuses it.
  const twice = duplicateJsonKey(text);
  if (twice !== undefined) throw new BadRequestError(`the request body gives the field ${JSON.stringify(twice)} twice in one object; give it once`);
  return value;
}

/**
 * The first key that an object of `text` (valid JSON) holds twice, or undefined.
 * One pass over the characters, with a set of keys per open object.
 */
export function duplicateJsonKey(text: string): string | undefined {
  /** Per open bracket: the keys of an object so far, undefined for an array. */
  const open: Array<Set<string> | undefined> = [];
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = open.at(-1);
      if (keyNext && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        keyNext = false;
      }
      i = end;
    } else if (c === '{') {
      open.push(new Set());
      keyNext = true;
    } else if (c === '[') {
      open.push(undefined);
      keyNext = false;
    } else if (c === '}' || c === ']') {
      open.pop();
      keyNext = false;
    } else if (c === ',') {
      keyNext = open.at(-1) !== undefined;
    }
  }
  return undefined;
}

/**
 * A JSON body that must be an object of `fields`, parsed. Strict like a spec: a
 * field the operation does not know is refused, not ignored, or a body written for
 * something berth does not do (a token's "scopes") would look done. `note` is
 * added to an unknown field's message (what the operation cannot do, and why).
 */
export function jsonObjectBody(body: Buffer, fields: readonly string[], note?: string): Record<string, unknown> {
  const value = parseJsonBody(body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    throw new BadRequestError(`the request body must be a JSON object like {"${fields[0] ?? 'field'}": …}, not ${kind}`);
  }
  for (const key of Object.keys(value)) {
    if (fields.includes(key)) continue;
    const message = unknownFieldMessage(key, fields).replace('(allowed: ', '(this operation takes: ');
    throw new BadRequestError(`${key}: ${message}${note ? `; ${note}` : ''}`);
  }
  return value as Record<string, unknown>;
}
