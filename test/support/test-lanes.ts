// Which lane of `npm test` (scripts/test.sh) a compiled test file runs in: the engine lane
// (one file at a time: the files share one Docker engine, one swarm and the machine's two
// cores) or the free lane beside it. Decided from the file's imports, followed through the
// compiled test support and src files, so no list of files has to be kept up to date: a
// file that can reach the Docker client (dockerode) uses the engine.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The module every use of the Docker engine goes through (test support and src alike). */
export const ENGINE_MODULES: ReadonlySet<string> = new Set(['dockerode']);

/** The module specifiers of a compiled ES module's static and literal dynamic imports and re-exports. */
export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/(?:^|[\n;}])\s*(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g, /(?:^|[\n;}])\s*import\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/**
 * The chain of files from `file` to an engine module (file first, the engine module last),
 * or undefined when none of its relative imports, followed transitively, reaches one.
 * `specifiersOf` reads a file's imports (a table in the unit test, the disk here).
 */
export function engineChain(file: string, specifiersOf: (file: string) => string[], seen = new Set<string>()): string[] | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  for (const spec of specifiersOf(file)) {
    if (ENGINE_MODULES.has(spec)) return [file, spec];
    if (!spec.startsWith('./') && !spec.startsWith('../')) continue; // node: built-ins and other packages
    const chain = engineChain(resolve(dirname(file), spec), specifiersOf, seen);
    if (chain) return [file, ...chain];
  }
  return undefined;
}

/** A compiled test file: the names `node --test` runs in the test directories (all *.test.ts here). */
export const isTestFile = (name: string): boolean => name.endsWith('.test.js');

/** The test files a target names: the file itself, or those below the directory, sorted. */
export function testFilesOf(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  const files: string[] = [];
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    const path = join(target, entry.name);
    if (entry.isDirectory()) files.push(...testFilesOf(path));
    else if (isTestFile(entry.name)) files.push(path);
  }
  return files.sort();
}

const fromDisk = (file: string): string[] => importSpecifiers(readFileSync(file, 'utf8'));

/** `engine FILE` or `free FILE` for every test file the targets name; a missing import reads as the engine's (the safe lane). */
export function laneLines(targets: string[]): string[] {
  const lines: string[] = [];
  for (const target of targets) {
    for (const file of testFilesOf(target)) {
      let engine: boolean;
      try {
        engine = engineChain(resolve(file), fromDisk) !== undefined;
      } catch {
        engine = true;
      }
      lines.push(`${engine ? 'engine' : 'free'} ${file}`);
    }
  }
  return lines;
}
