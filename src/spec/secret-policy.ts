/**
 * Which secret references (`env.X.fromFile`, `env.X.fromEnv`) the gateway's policy
 * allows. Deny by default: whoever holds an API token must not be able to read the
 * gateway's files or variables into a container of their own.
 */
import type { EnvValue } from './env-value.js';
import type { SpecIssue } from './path.js';
import { isUnder } from './policy.js';
import type { DockerPolicy } from './types.js';

/** The part of the policy about secret references. */
export type SecretPolicy = Pick<DockerPolicy, 'secretFiles' | 'secretEnv' | 'secretFileRoots'>;

/** berth's own variables (BERTH_ADMIN_TOKEN among them) are never handed to a container, whatever the patterns say. */
const RESERVED_ENV = /^BERTH_/;

/** `*` matches any run of characters; everything else is literal. */
export function envNameAllowed(name: string, patterns: readonly string[]): boolean {
  if (RESERVED_ENV.test(name)) return false;
  return patterns.some((pattern) => new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`).test(name));
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function list(items: readonly string[]): string {
  return items.length > 0 ? items.join(', ') : 'none allowed';
}

/**
 * Problems of an app's secret references against the policy, by path strings only.
 * The runtime checks files again at every create, with symbolic links resolved.
 */
export function secretRefIssues(appName: string, env: Readonly<Record<string, EnvValue>>, policy: SecretPolicy): SpecIssue[] {
  const roots = policy.secretFiles ?? [];
  const patterns = policy.secretEnv ?? [];
  const issues: SpecIssue[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== 'object') continue;
    if ('fromFile' in value && !roots.some((root) => isUnder(value.fromFile, root))) {
      issues.push({ path: ['env', key, 'fromFile'], message: `"${value.fromFile}" of app "${appName}" is not under policy.secretFiles (${list(roots)})` });
    }
    if ('fromEnv' in value && !envNameAllowed(value.fromEnv, patterns)) {
      const why = RESERVED_ENV.test(value.fromEnv) ? "berth's own BERTH_* variables are never given to apps" : `policy.secretEnv (${list(patterns)}) does not allow it`;
      issues.push({ path: ['env', key, 'fromEnv'], message: `variable ${value.fromEnv} of app "${appName}": ${why}` });
    }
  }
  return issues;
}
