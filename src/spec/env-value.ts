/**
 * An env value of a spec: plain text, or a secret. A secret is a literal the API
 * never shows (`{secret: "..."}`), or a reference the gateway resolves when it
 * creates a container: a file on the gateway's host (`{fromFile: "/path"}`) or a
 * variable of the gateway's own environment (`{fromEnv: "NAME"}`). References are
 * allowed only by the gateway's policy.secretFiles / policy.secretEnv.
 */
import { z } from 'zod';
import { absolutePathField, textScalarField } from './fields.js';

/** What the API, the CLI and the dashboard show in place of a secret literal. */
export const REDACTED = '<redacted>';

/** A secret env value of a normalized spec: exactly one of the three keys. */
export type SecretEnvValue = { secret: string } | { fromFile: string } | { fromEnv: string };

/** A normalized env value: plain text, or a secret. */
export type EnvValue = string | SecretEnvValue;

/** Variable names of the gateway's environment that a spec may name. */
export const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// A value copied from `berth get` would otherwise silently become the container's password.
const notRedacted = (value: string | number | boolean) => value !== REDACTED;
const REDACTED_MESSAGE = `is "${REDACTED}", the marker berth shows in place of a secret; write the real value`;

// One line, no control characters but tab: a CR or LF in an env value would forge another variable.
const plainValue = textScalarField.refine(notRedacted, REDACTED_MESSAGE);

const secretObject = z
  .strictObject({
    // One line, as every env value (and as fromFile / fromEnv values are checked at create).
    secret: plainValue
      .optional()
      .describe('A secret literal: passed to the container, never shown by the API, CLI or dashboard.'),
    fromFile: absolutePathField
      .optional()
      .describe("A file on the gateway's host, read when a container is created; must lie under the gateway's policy.secretFiles."),
    fromEnv: z
      .string()
      .regex(ENV_VAR_NAME, 'must be an environment variable name')
      .optional()
      .describe("A variable of the gateway's own environment, read when a container is created; must match the gateway's policy.secretEnv."),
  })
  .superRefine(
    (value, ctx) => {
      const set = (['secret', 'fromFile', 'fromEnv'] as const).filter((key) => value[key] !== undefined);
      if (set.length !== 1) ctx.addIssue({ code: 'custom', message: 'must have exactly one of secret, fromFile or fromEnv' });
    },
    // An unknown key is reported by itself; "exactly one" on top of it would be noise.
    { when: (payload) => payload.issues.length === 0 },
  )
  // The "exactly one" rule, in a form editors understand.
  .meta({ minProperties: 1, maxProperties: 1 });

export const envValueField = z.union([plainValue, secretObject], {
  error: 'must be a string, number or boolean, or an object with one of secret, fromFile or fromEnv',
});

export type EnvValueInput = z.output<typeof envValueField>;

/** A validated env value in its normal form: numbers and booleans become text. */
export function normalizeEnvValue(value: EnvValueInput): EnvValue {
  if (typeof value !== 'object') return String(value);
  if (value.secret !== undefined) return { secret: String(value.secret) };
  if (value.fromFile !== undefined) return { fromFile: value.fromFile };
  return { fromEnv: value.fromEnv! };
}

/** The env as anyone but the container may see it: secret literals replaced by the marker; references kept (they are not secret). */
export function redactEnv(env: Readonly<Record<string, EnvValue>>): Record<string, EnvValue> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, redactEnvValue(value)]));
}

export function redactEnvValue(value: EnvValue): EnvValue {
  return typeof value === 'object' && 'secret' in value ? { secret: REDACTED } : value;
}

/** Keys whose secret literal differs between two envs (both secret literals): redaction hides such a change. */
export function changedSecretKeys(before: Readonly<Record<string, EnvValue>> | undefined, after: Readonly<Record<string, EnvValue>>): string[] {
  if (!before) return [];
  return Object.keys(after).filter((key) => {
    const a = before[key];
    const b = after[key];
    return typeof a === 'object' && 'secret' in a && typeof b === 'object' && 'secret' in b && a.secret !== b.secret;
  });
}

/** A spec as anyone but the container may see it (API, CLI, dashboard): secret literals redacted. */
export function redactSpec<T extends { env: Readonly<Record<string, EnvValue>> }>(spec: T): T {
  return { ...spec, env: redactEnv(spec.env) };
}
