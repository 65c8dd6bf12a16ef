import type { FromProxy, RequestFacts, WakeAnswer } from './state-feed.js';

/** Messages handed to the channel and not yet written to it: past this many, the control is not reading (as RecordOutbox's batches). */
const MAX_UNWRITTEN = 8;

export interface ControlLinkOptions {
  /** Hands one message to the channel; `written` is called once the channel took it (process.send's callback). */
  send: (message: FromProxy, written: () => void) => void;
  /** Ids for wakes, from the worker's one counter (its checks take theirs from it too). */
  nextId: () => number;
  maxUnwritten?: number;
}

/** One wake request: the requests waiting on its answer, and whether it went to the control. */
interface Wake {
  app: string;
  facts: RequestFacts;
  waiters: Set<(answer: WakeAnswer) => void>;
  /** Given when it is sent; none while held. */
  id?: number;
}

/**
 * A worker's messages to its control, as far as the control reads them. A
 * control that does not read (SIGSTOP, a blocked event loop) leaves its end of
 * the channel full, and each process.send after that was queued in the worker's
 * memory: a wake per request for an app that was not running, and a pong per
 * ping read, for as long as it lasted. Now, while more than a few messages wait
 * unwritten: a pong is not sent (the message waiting ahead of it says the worker
 * lives, and the pool reads any message as that); and a wake is held here, one
 * per app, which every further request for the app joins, so what waits grows
 * with the apps, not the requests. A held wake goes once the channel drains;
 * while the control is silent (control-watch.ts), failAll answers it here.
 * While the control reads, every request's wake goes on its own, so each takes
 * its place in the app's wait queue (queueSize) as before.
 */
export class ControlLink {
  private unwritten = 0;
  /** Wakes by id, sent or held; a held one's id is given when it is sent. */
  private readonly wakes = new Map<number, Wake>();
  /** The held wake of each app (not sent yet). */
  private readonly held = new Map<string, Wake>();
  private readonly maxUnwritten: number;

  constructor(private readonly options: ControlLinkOptions) {
    this.maxUnwritten = options.maxUnwritten ?? MAX_UNWRITTEN;
  }

  /** Whether the control is behind: messages that can wait or go do not join the channel. */
  get backlogged(): boolean {
    return this.unwritten >= this.maxUnwritten;
  }

  /** Wakes held here, not yet handed to the channel (one per app at most). */
  get heldCount(): number {
    return this.held.size;
  }

  /** Any message that must reach the control (a leave, a check, a fence's answer…). */
  send(message: FromProxy): void {
    this.unwritten++;
    this.options.send(message, () => this.written());
  }

  /** The answer to a ping: not queued behind a backlog, which already tells the pool the worker lives. */
  pong(): void {
    if (this.unwritten === 0) this.send({ t: 'pong' });
  }

  /** Asks the control to wake `app`; `leave` tells it the client went before the answer. */
  wake(app: string, facts: RequestFacts): { answer: Promise<WakeAnswer>; leave(): void } {
    let resolve!: (answer: WakeAnswer) => void;
    const answer = new Promise<WakeAnswer>((r) => (resolve = r));
    let wake = this.held.get(app);
    if (!wake) {
      wake = { app, facts, waiters: new Set() };
      if (this.backlogged) this.held.set(app, wake);
      else this.sendWake(wake);
    }
    wake.waiters.add(resolve);
    const joined = wake;
    return { answer, leave: () => this.leave(joined, resolve) };
  }

  /** The control's answer to wake `id`. */
  answered(id: number, answer: WakeAnswer): void {
    const wake = this.wakes.get(id);
    this.wakes.delete(id);
    if (wake) settle(wake, () => answer);
  }

  /**
   * The control is silent: every wake is answered with `answerFor(app)`. A sent
   * one is also left, so the control, reading again, gives back the place it
   * held in the app's wait queue; a held one never went.
   */
  failAll(answerFor: (app: string) => WakeAnswer): void {
    for (const wake of this.held.values()) settle(wake, answerFor);
    this.held.clear();
    for (const [id, wake] of this.wakes) {
      this.wakes.delete(id);
      settle(wake, answerFor);
      this.send({ t: 'leave', id });
    }
  }

  private sendWake(wake: Wake): void {
    const id = (wake.id = this.options.nextId());
    this.wakes.set(id, wake);
    this.send({ t: 'wake', id, app: wake.app, facts: wake.facts });
  }

  /** A waiting client went: the control hears of it when it was the last on a wake that went (only while unanswered). */
  private leave(wake: Wake, resolve: (answer: WakeAnswer) => void): void {
    if (!wake.waiters.delete(resolve) || wake.waiters.size > 0) return;
    if (wake.id === undefined) this.held.delete(wake.app);
    else if (this.wakes.get(wake.id) === wake) {
      this.wakes.delete(wake.id);
      this.send({ t: 'leave', id: wake.id });
    }
  }

  private written(): void {
    this.unwritten--;
    for (const [app, wake] of this.held) {
      if (this.backlogged) return;
      this.held.delete(app);
      this.sendWake(wake);
    }
  }
}

/** Answers every request waiting on `wake`; a leave after its answer then holds no place. */
function settle(wake: Wake, answerFor: (app: string) => WakeAnswer): void {
  const answer = answerFor(wake.app);
  for (const resolve of wake.waiters) resolve(answer);
  wake.waiters.clear();
}
