import { pino, type Logger } from 'pino';

/** One JSON line per event on stdout; BERTH_LOG_LEVEL picks the level (default info). */
export function createLogger(level = process.env.BERTH_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } });
}
