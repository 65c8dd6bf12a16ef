import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';
import type { DockerEndpoint } from './client.js';

/** The client certificate files a TLS engine wants, as the docker CLI reads them. */
export interface TlsFiles {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** Reads ca.pem, cert.pem and key.pem from the endpoint's cert path; undefined for an endpoint without TLS. I/O: call lazily. */
export function readTlsFiles(endpoint: DockerEndpoint): TlsFiles | undefined {
  const tls = endpoint.tls;
  if (!tls) return undefined;
  const read = (file: string): Buffer => {
    try {
      return readFileSync(join(tls.certPath, file));
    } catch (err) {
      throw new ConfigError(`docker: TLS to ${endpoint.url} needs ${file} in ${tls.certPath} (set DOCKER_CERT_PATH)`, { cause: err });
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}
