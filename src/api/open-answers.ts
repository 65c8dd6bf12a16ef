import type { ServerResponse } from 'node:http';
import { UnauthorizedError } from '../errors.js';
import type { Principal } from './token-service.js';

/**
 * How often the tokens behind answers still open are checked against the store
 * again: how long a token revoked through another gateway sharing the store can
 * keep an event stream or a log follow open here.
 */
export const TOKEN_RECHECK_MS = 5_000;

interface OpenAnswer {
  principal: Principal;
  authorization: string | undefined;
}

/**
 * The admin listener's answers under way, by who asked. Event streams and log
 * follows never end by themselves, so a revoked token's must be ended: a revoke
 * through this gateway ends them at once (endOf); one through another gateway
 * on the same store is found by recheck, which asks the store again for each
 * token that still has a started answer open.
 */
export class OpenAnswers {
  private readonly open = new Map<ServerResponse, OpenAnswer>();
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly verify: (authorization: string | undefined) => Promise<Principal>,
    private readonly recheckMs = TOKEN_RECHECK_MS,
  ) {}

  add(res: ServerResponse, principal: Principal, authorization: string | undefined): void {
    this.open.set(res, { principal, authorization });
    res.on('close', () => this.open.delete(res));
  }

  /**
   * Ends the started answers of the token with this id or name. An answer not yet
   * started (the revoking request itself, when a token revokes itself) is let
   * finish: it was allowed when it came.
   */
  endOf(idOrName: string): void {
    for (const [res, { principal }] of this.open) {
      if (res.headersSent && (principal.tokenId === idOrName || principal.name === idOrName)) res.destroy();
    }
  }

  /** Rechecks every recheckMs until stop(); the timer keeps no process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.recheck(), this.recheckMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Ends the started answers whose token the store no longer knows. Each token is
   * asked once however many answers it holds open; a store out of reach ends
   * nothing (verify still accepts the tokens it has seen, as for new calls).
   */
  async recheck(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const byToken = new Map<string | undefined, ServerResponse[]>();
      for (const [res, { authorization }] of this.open) {
        if (!res.headersSent) continue;
        const answers = byToken.get(authorization);
        if (answers) answers.push(res);
        else byToken.set(authorization, [res]);
      }
      for (const [authorization, answers] of byToken) {
        try {
          await this.verify(authorization);
        } catch (err) {
          if (err instanceof UnauthorizedError) for (const res of answers) res.destroy();
        }
      }
    } finally {
      this.checking = false;
    }
  }
}
