/**
 * Certificates by the names they are valid for, looked up by a TLS client's
 * server name: the exact name first, then a wildcard for its first label only
 * (`*.example.com` covers `a.example.com`, not `example.com` nor
 * `a.b.example.com`, RFC 6125 §6.4.3). When two entries share a name the one
 * added first keeps it, so earlier sources win (files before ACME).
 */
export class SniIndex<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcard = new Map<string, T>();

  add(names: readonly string[], entry: T): void {
    for (const raw of names) {
      const name = raw.toLowerCase();
      if (name.startsWith('*.')) {
        if (!this.wildcard.has(name.slice(1))) this.wildcard.set(name.slice(1), entry);
      } else if (!this.exact.has(name)) this.exact.set(name, entry);
    }
  }

  /** The entry for a server name (any case, a trailing root dot allowed), or undefined. */
  lookup(serverName: string): T | undefined {
    let name = serverName.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    const hit = this.exact.get(name);
    if (hit !== undefined) return hit;
    const dot = name.indexOf('.');
    return dot > 0 ? this.wildcard.get(name.slice(dot)) : undefined;
  }

  get size(): number {
    return this.exact.size + this.wildcard.size;
  }
}
