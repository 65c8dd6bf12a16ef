/** The CLI reads the admin API's JSON through the one module the API writes it with. */
export * from '../api/wire-types.js';
