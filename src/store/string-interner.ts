/**
 * One string object per distinct value, for text that repeats across requests
 * (app names, methods, client addresses, common paths). A buffer that keeps
 * the interned copy lets the caller's own copy die young, instead of holding
 * one more string per request until it is promoted. Bounded: past `max`
 * distinct values the table starts over, so a stream of unique values costs
 * a few lookups and never grows memory.
 */
export class StringInterner {
  private readonly values = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** Distinct values remembered now. */
  get size(): number {
    return this.values.size;
  }

  intern(value: string): string {
    const seen = this.values.get(value);
    if (seen !== undefined) return seen;
    if (this.values.size >= this.max) this.values.clear();
    this.values.set(value, value);
    return value;
  }
}
