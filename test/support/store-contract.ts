import type { Store } from '../../src/store/store.js';

/**
 * One store under test: the contract suites (store-contract-*.ts) run the same
 * checks against SQLite and PostgreSQL through this.
 */
export interface StoreFixture {
  /** Opens a store on this fixture's data (a new connection each time). */
  open(): Promise<Store>;
  /** Removes the data (the temp file, the test database). */
  dispose(): Promise<void>;
}

export type FixtureFactory = () => Promise<StoreFixture>;

export interface StoreContext {
  store: Store;
  /** Closes the current store and opens the same data again: what survives a restart. */
  reopen(): Promise<Store>;
  /** A second, independent connection to the same data (another gateway). */
  another(): Promise<Store>;
}

/** Runs `fn` on a fresh store; whatever happens, every store opened is closed and the data removed. */
export async function withFixture(make: FixtureFactory, fn: (ctx: StoreContext) => Promise<void>): Promise<void> {
  const fixture = await make();
  const opened: Store[] = [];
  const open = async () => {
    const s = await fixture.open();
    opened.push(s);
    return s;
  };
  try {
    const ctx: StoreContext = {
      store: await open(),
      reopen: async () => {
        await ctx.store.close();
        ctx.store = await open();
        return ctx.store;
      },
      another: open,
    };
    await fn(ctx);
  } finally {
    for (const s of opened) await s.close().catch(() => undefined);
    await fixture.dispose();
  }
}
