import { RuntimeError } from '../../errors.js';
import { containerExited } from '../runtime.js';

/**
 * A container found exited by the look right after its start. Its exit code is what the app
 * did, so the app's clients may read it (as the readiness wait tells them when it sees the
 * exit a moment later): without the public form, a loaded machine, where the app exits
 * before that look, told them only "failed to start". Pure.
 */
export function exitedAtStart(name: string, exitCode: number | undefined): RuntimeError {
  const code = exitCode ?? '?';
  return new RuntimeError(`container ${name} exited with code ${code} right after starting; its logs say why`, {
    publicMessage: containerExited(code),
  });
}
