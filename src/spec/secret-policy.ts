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

/**
 * The variables of the gateway's own connections: node-postgres reads PG* (PGPASSWORD,
 * PGHOST, PGSSLKEY…) for the store, the Docker client DOCKER_* (DOCKER_HOST,
 * DOCKER_CERT_PATH) for the engine. A pattern with `*` written for an app's secrets
 * (`*`, `P*`) must not hand them out by accident: only the name listed exactly does.
 */
const GATEWAY_ENV = /^(PG|DOCKER_)/;

/** `*` matches any run of characters; everything else is literal. BERTH_* never, PG* and DOCKER_* only by their exact name. */
export function envNameAllowed(name: string, patterns: readonly string[]): boolean {
  if (RESERVED_ENV.test(name)) return false;
  if (GATEWAY_ENV.test(name)) return patterns.includes(name);
  return patterns.some((pattern) => new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`).test(name));
}

/** Why a variable the patterns do not allow is refused, for the message. */
function envDenial(name: string, patterns: readonly string[]): string {
  if (RESERVED_ENV.test(name)) return "berth's own BERTH_* variables are never given to apps";
  if (GATEWAY_ENV.test(name) && patterns.some((pattern) => pattern.includes('*'))) {
    return `the gateway's own store and engine variables (PG*, DOCKER_*) are given only when policy.secretEnv lists the name itself, never by a * pattern (${list(patterns)})`;
  }
  return `policy.secretEnv (${list(patterns)}) does not allow it`;
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
      issues.push({ path: ['env', key, 'fromEnv'], message: `variable ${value.fromEnv} of app "${appName}": ${envDenial(value.fromEnv, patterns)}` });
    }
  }
  return issues;
}
