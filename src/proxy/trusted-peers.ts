import { BlockList, isIP } from 'node:net';
import { canonicalAddress } from './forwarded-headers.js';

/**
 * The peers whose X-Forwarded-* headers are trusted: single addresses and CIDR ranges
 * (`10.0.0.0/8`, `fd00::/8`), as Traefik's `trustedIPs` and Caddy's `trusted_proxies`
 * take them. An address is a set lookup; ranges are asked only when there are some.
 */
export class TrustedPeers {
  private readonly addresses = new Set<string>();
  /** Every range, asked for an IPv6 peer. */
  private readonly ranges = new BlockList();
  /**
   * The IPv4 ranges alone, asked for an IPv4 peer. BlockList matches an IPv4 address against an
   * IPv6 range as IPv4-mapped, so `::/0` ("every IPv6 peer") or `::/64` trusted every IPv4 client's
   * X-Forwarded-For too. An IPv6 range stands for IPv4 peers only inside ::ffff:0:0/96, and such a
   * range is read as the IPv4 range it maps (parseRange).
   */
  private readonly ipv4Ranges = new BlockList();
  private hasRanges = false;
  /** The last peer asked and its answer: a kept-alive connection's requests ask for the same one. */
  private lastPeer = '';
  private lastAnswer = false;

  /** `entries` as `trustedEntry` writes them (config load refuses anything else). */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const range = parseRange(entry);
      if (range) {
        this.ranges.addSubnet(range.network, range.prefix, range.family);
        if (range.family === 'ipv4') this.ipv4Ranges.addSubnet(range.network, range.prefix, 'ipv4');
        this.hasRanges = true;
      } else this.addresses.add(entry);
    }
  }

  get empty(): boolean {
    return this.addresses.size === 0 && !this.hasRanges;
  }

  /** Whether `peer` (a socket's address, unmapped: see unmappedAddress) is trusted. */
  has(peer: string): boolean {
    if (this.addresses.has(peer)) return true;
    if (!this.hasRanges) return false;
    if (peer === this.lastPeer) return this.lastAnswer;
    const family = peer.includes(':') ? 'ipv6' : 'ipv4';
    let answer = false;
    try {
      answer = family === 'ipv4' ? this.ipv4Ranges.check(peer, family) : this.ranges.check(peer, family);
    } catch {
      answer = false; // not an address at all (a unix socket's peer)
    }
    this.lastPeer = peer;
    this.lastAnswer = answer;
    return answer;
  }
}

interface Range {
  network: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

function parseRange(entry: string): Range | undefined {
  const slash = entry.indexOf('/');
  if (slash < 0) return undefined;
  const written = entry.slice(0, slash);
  const network = canonicalAddress(written);
  const bits = entry.slice(slash + 1);
  if (network === undefined || !/^\d{1,3}$/.test(bits)) return undefined;
  const family = network.includes(':') ? 'ipv6' : 'ipv4';
  let prefix = Number(bits);
  // An IPv4-mapped network (::ffff:10.0.0.0) is compared as IPv4, as peers are. Written as an IPv6
  // range (/104), its prefix counts the 96 bits of the mapping too: it was refused as "neither an
  // address nor a range". A prefix up to 32 is read as IPv4's, as before.
  if (family === 'ipv4' && isIP(written) === 6 && prefix > 32) prefix = prefix >= 96 ? prefix - 96 : Number.NaN;
  if (!(prefix <= (family === 'ipv4' ? 32 : 128))) return undefined;
  return { network, prefix, family };
}

/**
 * One `trustedProxies` entry in the form peers are compared in: an address (lower case,
 * zeros compressed, IPv4-mapped as IPv4) or a range `address/bits`; undefined for anything
 * else (a name, a port, a zone), which no peer would ever match.
 */
export function trustedEntry(entry: string): string | undefined {
  if (!entry.includes('/')) return canonicalAddress(entry);
  const range = parseRange(entry);
  return range && `${range.network}/${range.prefix}`;
}
