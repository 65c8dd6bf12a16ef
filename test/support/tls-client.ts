import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';

/** The certificate a TLS listener on 127.0.0.1 serves for `servername` (SNI), checked against `ca`; with the negotiated version. */
export function servedCertificate(port: number, servername: string, ca: string | string[], options: { maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' } = {}): Promise<{ cert: PeerCertificate; protocol: string | null; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['h2', 'http/1.1'], ...options, timeout: 10_000 }, () => {
      const cert = socket.getPeerCertificate();
      const result = { cert, protocol: socket.getProtocol(), alpn: socket.alpnProtocol ?? false };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
    socket.on('timeout', () => socket.destroy(new Error('TLS handshake timed out')));
  });
}

export interface H2Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP/2 request to 127.0.0.1:port for `authority` (SNI and :authority), trusting `ca` only. */
export function h2Request(port: number, authority: string, path: string, ca: string | string[], headers: Record<string, string> = {}): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    // Dialled at 127.0.0.1 whatever the name: the name travels only in SNI and :authority.
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca, servername: authority.split(':')[0] });
    session.on('error', reject);
    const stream = session.request({ ':path': path, ':method': 'GET', ':authority': authority, ...headers });
    let status = 0;
    let responseHeaders: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h as Record<string, string | string[] | undefined>;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      session.close();
      resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString() });
    });
    stream.on('error', (err) => {
      session.destroy();
      reject(err);
    });
    stream.setTimeout(30_000, () => stream.close());
    stream.end();
  });
}
