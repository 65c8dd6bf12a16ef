/**
 * A spec document (spec-document.ts) as YAML text that reads back as the same data.
 * Spec text is read with YAML merge keys on (documents.ts), so a plain `<<:` key is a
 * merge, not a name: an env variable or label called `<<` (or such a key in input
 * data) came back as "Merge sources must be maps". Such a key is written quoted,
 * which YAML reads as the plain name. Pure.
 */
import { Document, isScalar, visit } from 'yaml';

export function specYamlText(data: Record<string, unknown>): string {
  const doc = new Document(data);
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === '<<') pair.key.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString();
}
