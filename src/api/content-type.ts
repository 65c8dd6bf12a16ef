/**
 * Which request bodies an admin operation takes, by Content-Type. A body that
 * says it is another format (a multipart form, XML, HTML, YAML to a JSON-only
 * operation) is refused with 415 before the operation runs, naming what it
 * takes: read as a spec, it would be a different document than its sender
 * meant. A body that says nothing of its format is read as the operation's
 * own: no Content-Type, and the two types clients put on a body they were not
 * told about (`curl -d` sends a form type, `fetch` a string as text/plain). The
 * API takes only Bearer tokens, never cookies, so a browser page cannot forge
 * a call whatever the type. An operation without a body takes any of those or
 * JSON (clients that send `{}` anyway).
 */

/** The types that say nothing of a body's format; such a body is read as the operation's own format. */
export const UNLABELLED_TYPES: readonly string[] = ['application/x-www-form-urlencoded', 'text/plain'];

/** The YAML media types in use: application/yaml (RFC 9512) and the older names tools still send. */
export const YAML_TYPES: readonly string[] = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** The media type of a Content-Type value, lower-cased and without its parameters; undefined when malformed. */
export function mediaTypeOf(value: string): { type: string; charset?: string } | undefined {
  const [head = '', ...params] = value.split(';');
  const type = head.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return undefined;
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() === 'charset') charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return charset === undefined ? { type } : { type, charset };
}

/** What `accepted` takes in practice: application/yaml stands for every YAML name. */
function takes(accepted: readonly string[], type: string): boolean {
  return accepted.includes(type) || (accepted.includes('application/yaml') && YAML_TYPES.includes(type));
}

/**
 * Why a request with Content-Type `header` (undefined: none) cannot go to an
 * operation reading `accepted` (undefined: it reads no body), or undefined
 * when it can. Pure; the message names what to send instead.
 */
export function contentTypeProblem(header: string | undefined, accepted: readonly string[] | undefined): string | undefined {
  const names = accepted ?? [];
  const want = accepted ? `send the body as ${names.join(' or ')} (e.g. curl -H 'Content-Type: ${names[0]}' --data-binary @file)` : 'send no body, or application/json';
  if (header === undefined || header.trim() === '') return undefined;
  const media = mediaTypeOf(header);
  if (!media) return `the Content-Type ${JSON.stringify(header.slice(0, 100))} is malformed: ${want}`;
  if (!UNLABELLED_TYPES.includes(media.type) && !(accepted ? takes(accepted, media.type) : media.type === 'application/json')) {
    return `${accepted ? 'this operation does not take' : 'this operation takes no body, least of all'} ${media.type}: ${want}`;
  }
  if (media.charset !== undefined && media.charset !== 'utf-8' && media.charset !== 'utf8' && media.charset !== 'us-ascii') {
    return `charset ${media.charset} is not taken: bodies are UTF-8 (send charset=utf-8 or none)`;
  }
  return undefined;
}

/**
 * Why a request body in Content-Encoding `header` cannot be read, or undefined
 * when it can (none, or only `identity`). The API reads bodies as sent: a gzip
 * spec came back as "binary, not YAML", and a body that said gzip but was plain
 * was applied though a proxy on the way might have made something else of it.
 * RFC 9110 §8.4: a server refuses a coding it does not take with 415.
 */
export function contentEncodingProblem(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const codings = header.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length === 0) return undefined;
  return `Content-Encoding ${JSON.stringify(header.slice(0, 100))} is not taken: send the body uncompressed (no Content-Encoding)`;
}
