import { pino, type Logger } from 'pino';

/**
 * A safety net for secrets (env values of specs and Docker create options): no log
 * line is meant to carry a spec or an env, and if one ever does, these keys are
 * printed as "<redacted>".
 */
export const LOG_REDACT_PATHS = ['env', '*.env', 'spec.env', '*.spec.env', 'Env', '*.Env', '*.*.Env'];

/** One JSON line per event on stdout; BERTH_LOG_LEVEL picks the level (default info). */
export function createLogger(level = process.env.BERTH_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: LOG_REDACT_PATHS, censor: '<redacted>' },
  });
}
