// An app's output as the logs view shows it. The app's author is not the operator:
// its colour codes (ESC [ 31 m), cursor moves, window titles (OSC) and other control
// characters are not for the page, where they showed as stray "[31m" around every
// coloured word. They are dropped the way the gateway drops them from a failed
// start's lastOutput (src/runtime/last-output.ts), and bidi overrides with them, so a
// line cannot show its text reordered; a tab is kept.

// eslint-disable-next-line no-control-regex
const SEQUENCES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `line` without escape sequences, its other control characters as spaces. Pure. */
export function plainLogLine(line) {
  return line.replace(SEQUENCES, '').replace(CONTROLS, ' ');
}
