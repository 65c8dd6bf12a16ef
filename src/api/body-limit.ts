/**
 * Specs are small; a larger body is a mistake or an attack. A module of its own: the CLI
 * checks a file against it before sending, and body.ts (the YAML parser's shape checks
 * with it) would load the YAML library into every berth command.
 */
export const MAX_BODY_BYTES = 1024 * 1024;
