import { jsonNestsDeeperThan, MAX_NESTING_DEPTH } from '../spec/nesting-depth.js';
import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../errors.js';
import { specText } from '../spec/utf8-text.js';

/** Specs are small; a larger body is a mistake or an attack. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the whole request body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BadRequestError(`request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body, saying where it is malformed. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new BadRequestError('the request body is empty; send JSON');
  const decoded = specText(body);
  if (!decoded.ok) throw new BadRequestError(`the request body is ${decoded.message}`);
  const text = decoded.text;
  // Parsing copes with any depth, but what walks the value afterwards recurses.
  if (jsonNestsDeeperThan(text)) throw new BadRequestError(`the request body is nested more than ${MAX_NESTING_DEPTH} levels deep`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}
