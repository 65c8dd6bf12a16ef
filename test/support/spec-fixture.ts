import { parseSpecObject } from '../../src/spec/index.js';
import type { AppSpec } from '../../src/spec/types.js';

/**
 * A normalized app spec with berth's own defaults (parsed from a minimal berth/v1
 * document, so a field added later gets its default here too), then `overrides`.
 */
export function appSpec(name: string, overrides: Partial<AppSpec> = {}, image = `example/${name}:latest`): AppSpec {
  return { ...parseSpecObject({ apiVersion: 'berth/v1', name, image, port: 8080 }), ...overrides };
}
