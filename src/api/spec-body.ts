import { BadRequestError, BerthError } from '../errors.js';
import { MAX_APPS_PER_REQUEST } from './body-limit.js';
import { parseSpecTextOffThread } from '../spec/parse-off-thread.js';
import type { AppSpec } from '../spec/types.js';
import { specText } from '../spec/utf8-text.js';
import type { ApiContext } from './route-def.js';

/** Specs from a request body: YAML (several documents) or JSON (one object or an array). */
export async function specsFromBody(ctx: ApiContext): Promise<AppSpec[]> {
  const decoded = specText(await ctx.body());
  if (!decoded.ok) throw new BadRequestError(`the request body is ${decoded.message}`);
  const text = decoded.text;
  if (text.trim() === '') throw new BadRequestError('the request body is empty; send one or more app specs as YAML or JSON');
  // A large body is read off the event loop, which the proxy shares.
  const specs = await parseSpecTextOffThread(text, 'request body');
  if (specs.length === 0) throw new BadRequestError('the request body holds no app spec');
  if (specs.length > MAX_APPS_PER_REQUEST) {
    throw new BerthError('payload_too_large', `the request body holds ${specs.length} app specs, more than ${MAX_APPS_PER_REQUEST} at a time; apply them in parts`);
  }
  return specs;
}
