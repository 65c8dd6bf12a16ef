/**
 * Plain-language messages for zod's generic issues. Field schemas carry their own
 * messages where the rule is specific (a DNS label, a duration); this map covers
 * the rest (wrong type, out of range, missing) so no message reads like a stack trace.
 */
import type { z } from 'zod';

/** A value only a YAML tag makes (!!omap, !!set, !!binary, !!timestamp): no JSON text gives one. */
export function isYamlTagged(value: unknown): boolean {
  return value instanceof Uint8Array || value instanceof Date || value instanceof Map || value instanceof Set;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  // YAML tags make these (!!omap, !!pairs, !!set, !!binary, !!timestamp); "a mapping" would read as no reason at all.
  if (value instanceof Map) return 'a YAML !!omap or !!pairs (write a plain mapping)';
  if (value instanceof Set) return 'a YAML !!set (write a plain mapping or list)';
  if (value instanceof Uint8Array) return 'YAML !!binary data';
  if (value instanceof Date) return 'a YAML !!timestamp (quote it to make it text)';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'not-a-number (.nan)' : 'infinity (.inf)';
  return `${typeof value} ${String(value)}`;
}

const EXPECTED: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

export const friendlyError: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `must be ${expected}, not ${describe(issue.input)}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min <= 1 ? 'must not be empty' : `must be at least ${min} characters`;
      if (issue.origin === 'array') return `must list at least ${min} item${min === 1 ? '' : 's'}`;
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters`;
      if (issue.origin === 'array') return `must list at most ${max} items`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v));
      return options.length === 1 ? `must be ${options[0]}` : `must be one of ${options.join(', ')}`;
    }
    default:
      return undefined;
  }
};
