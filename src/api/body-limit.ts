/**
 * Specs are small; a larger body is a mistake or an attack. A module of its own: the CLI
 * checks a file against it before sending, and body.ts (the YAML parser's shape checks
 * with it) would load the YAML library into every berth command.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The most app specs one request applies. An apply runs on the event loop the proxy shares
 * (the whole set checked, one store transaction, a controller per app, an answer listing
 * each): about a quarter of a millisecond per app on an idle core, so a 1 MiB body of
 * 15,000 small apps held every proxied request for seconds and was answered with 18 MB.
 * Far past a team's directory of specs applied at once; more are applied in parts.
 */
export const MAX_APPS_PER_REQUEST = 500;
