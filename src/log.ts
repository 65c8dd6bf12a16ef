import { pino, type Logger } from 'pino';
import { logDestination } from './log-destination.js';

/**
 * A safety net for secrets (env values of specs and Docker create options): no log
 * line is meant to carry a spec or an env, and if one ever does, these keys are
 * printed as "<redacted>".
 */
export const LOG_REDACT_PATHS = ['env', '*.env', 'spec.env', '*.spec.env', 'Env', '*.Env', '*.*.Env'];

/**
 * Why BERTH_LOG_LEVEL (or another level given from outside) is not one pino knows;
 * undefined when it is. Unchecked, pino threw its own words at the start ("default
 * level:loud must be included in custom levels"), naming no variable. Pure.
 */
export function logLevelProblem(level: string): string | undefined {
  if ((LOG_LEVELS as readonly string[]).includes(level)) return undefined;
  return `${JSON.stringify(level)} is not a log level: ${LOG_LEVELS.join(' | ')}`;
}

/** pino's standard levels and `silent`, as the config's `logLevel` takes them. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One JSON line per event on stdout; BERTH_LOG_LEVEL picks the level (default info). */
export function createLogger(level = process.env.BERTH_LOG_LEVEL ?? 'info'): Logger {
  // A failing stdout (a redirected log's disk full) drops lines instead of ending the process (log-destination.ts).
  const destination = logDestination(1, (dropped, cause) => logger.warn({ dropped, err: cause }, 'the log could not be written; lines were dropped meanwhile'));
  const logger: Logger = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: LOG_REDACT_PATHS, censor: '<redacted>' },
    },
    destination,
  );
  return logger;
}
