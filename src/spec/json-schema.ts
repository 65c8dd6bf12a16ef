/**
 * The JSON Schema of a berth/v1 app spec, generated from the zod schema so the two
 * cannot drift. Editors use it for completion and checking, e.g. with
 * `# yaml-language-server: $schema=<path to>/berth-app.schema.json` in a spec file.
 * Draft-07 because it is the draft every editor integration understands.
 */
import { z } from 'zod';
import { berthAppSchema, routeSchema } from './schema.js';

export const APP_SCHEMA_ID = 'urn:berth:schema:app:v1';

export function appSpecJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(berthAppSchema, {
    target: 'draft-07',
    // The input side: fields with defaults are optional, as users may leave them out.
    io: 'input',
    override: (ctx) => {
      // zod refinements have no JSON Schema form; this one matters for editors.
      if (ctx.zodSchema === routeSchema) ctx.jsonSchema.anyOf = [{ required: ['host'] }, { required: ['path'] }];
      // zod bounds integers by the largest safe integer; to a reader that is noise.
      if (ctx.jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete ctx.jsonSchema.maximum;
    },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: APP_SCHEMA_ID,
    title: 'berth app spec (berth/v1)',
    ...rest,
    description:
      'One app for berth, the on-demand container gateway: the image to run, its port and routes, and how it starts, scales and stops. Several apps may share a file as separate YAML documents.',
  };
}
