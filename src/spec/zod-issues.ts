/**
 * Turns a zod failure into SpecIssues: one per problem, each at the path of the
 * offending field. zod reports unknown keys once per object and bad record keys
 * wrapped in a generic issue; both are unfolded here so every path points at the
 * key the user wrote.
 */
import type { z } from 'zod';
import type { PathSegment, SpecIssue } from './path.js';
import { unknownFieldMessage } from './suggest.js';

type AnySchema = z.core.$ZodType;

interface LooseDef {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  element?: AnySchema;
  valueType?: AnySchema;
  options?: AnySchema[];
  in?: AnySchema;
}

/** The schemas that may describe the value at `path` (several when a union is crossed). */
function schemasAt(schema: AnySchema, path: readonly PathSegment[]): AnySchema[] {
  const def = schema._zod.def as unknown as LooseDef;
  const wrapped = def.innerType ?? def.in;
  if (wrapped) return schemasAt(wrapped, path);
  if (def.options) return def.options.flatMap((option) => schemasAt(option, path));
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  if (def.shape && typeof head === 'string' && def.shape[head]) return schemasAt(def.shape[head], rest);
  if (def.element && typeof head === 'number') return schemasAt(def.element, rest);
  if (def.valueType) return schemasAt(def.valueType, rest);
  return [];
}

/** Field names an object at `path` allows, for "did you mean". */
export function allowedKeysAt(schema: AnySchema, path: readonly PathSegment[]): string[] {
  const keys = new Set<string>();
  for (const found of schemasAt(schema, path)) {
    const shape = (found._zod.def as unknown as LooseDef).shape;
    for (const key of Object.keys(shape ?? {})) keys.add(key);
  }
  return [...keys];
}

function asPath(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
}

export function issuesFromZod(error: z.core.$ZodError, schema: AnySchema): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of error.issues) {
    const path = asPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, path);
      for (const key of issue.keys) out.push({ path: [...path, key], message: unknownFieldMessage(key, allowed) });
    } else if (issue.code === 'invalid_key') {
      // The key itself is wrong: report the key schema's own message, at the key.
      for (const inner of issue.issues) out.push({ path, message: inner.message });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}
