/**
 * What a document's raw value (YAML or JSON, before any schema) holds that no
 * field may: checked in every form, before the form's own checks.
 *
 * - A key named `__proto__`: YAML and JSON give it as an own key, but the schema's
 *   maps skip it (assigning one would set a prototype), so an env variable or label
 *   of that name vanished without a word.
 * - A lone surrogate (`"\ud800"`, which JSON and YAML escapes both allow): a string
 *   that has no UTF-8 form. It was stored and shown as given while the engine got
 *   U+FFFD in its place, so the container ran with an env value or label other
 *   than the one berth showed as applied.
 */
import type { SpecIssue } from './path.js';
import { isRecord } from './record.js';

/** Every such problem in `value`, located under `path`. Pure. */
export function rawValueIssues(value: unknown, path: Array<string | number>): SpecIssue[] {
  if (typeof value === 'string') {
    const message = loneSurrogateProblem(value);
    return message ? [{ path, message }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => rawValueIssues(item, [...path, i]));
  if (!isRecord(value)) return [];
  return Object.keys(value).flatMap((key) => {
    if (key === '__proto__') return [{ path: [...path, key], message: '"__proto__" cannot be used as a name here' }];
    const inKey = loneSurrogateProblem(key);
    if (inKey) return [{ path: [...path, key], message: `the name ${inKey}` }];
    return rawValueIssues(value[key], [...path, key]);
  });
}

/** A UTF-16 surrogate without its other half (with the u flag a pair is one code point, never matched). */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `text` is not Unicode text, or undefined. Pure. */
export function loneSurrogateProblem(text: string): string | undefined {
  const at = text.search(LONE_SURROGATE);
  if (at < 0) return undefined;
  const code = text.charCodeAt(at).toString(16).toUpperCase();
  return `must be Unicode text: a lone surrogate (\\u${code}) at position ${at}, which has no UTF-8 form; write the whole character, or both halves of its pair`;
}
