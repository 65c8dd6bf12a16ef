import { createSocket, type Socket } from 'node:dgram';

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP) for pebble's `-dnsserver`:
 * every A question is answered 127.0.0.1, except names `nxdomain(name)` says do
 * not exist. AAAA and the rest get an empty answer. Route hosts so resolve only
 * inside the test, never through real DNS.
 */
export class DnsResponder {
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(nxdomain: (name: string) => boolean): Promise<DnsResponder> {
    const socket = createSocket('udp4');
    socket.on('message', (query, peer) => {
      const answer = answerQuery(query, nxdomain);
      if (answer) socket.send(answer, peer.port, peer.address);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new DnsResponder(socket, socket.address().port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

const TYPE_A = 1;

/** The response to one query (RFC 1035 §4.1), or undefined for something that is not one. */
export function answerQuery(query: Buffer, nxdomain: (name: string) => boolean): Buffer | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const len = query[at]!;
    if (len > 63) return undefined;
    labels.push(query.subarray(at + 1, at + 1 + len).toString('latin1'));
    at += 1 + len;
  }
  const questionEnd = at + 5; // the root label, QTYPE and QCLASS
  if (questionEnd > query.length) return undefined;
  const qtype = query.readUInt16BE(at + 1);
  const name = labels.join('.').toLowerCase();
  const missing = nxdomain(name);
  const answers = !missing && qtype === TYPE_A ? 1 : 0;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // the id
  // QR, the opcode and RD as asked, AA and RA; RCODE 3 (NXDOMAIN) or 0.
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | (missing ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers, 6);
  const question = query.subarray(12, questionEnd);
  if (answers === 0) return Buffer.concat([header, question]);
  // A pointer to the question's name, A, IN, a TTL of 1 s, 4 bytes of 127.0.0.1.
  const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 127, 0, 0, 1]);
  return Buffer.concat([header, question, record]);
}
