import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate authority made by `openssl` for one test; only that test's clients trust it. */
export interface TestCa {
  cert: string;
  key: string;
  pem: string;
}

export async function makeCa(dir: string, name = 'berth test CA'): Promise<TestCa> {
  const cert = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert]);
  return { cert, key, pem: await readFile(cert, 'utf8') };
}

/** A leaf certificate for `names` (subjectAltNames: DNS names, or IP addresses) signed by `ca`, written as `<file>.crt` and `<file>.key`. */
export async function makeLeaf(dir: string, ca: TestCa, file: string, names: string[]): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${file}.crt`);
  const key = join(dir, `${file}.key`);
  const csr = join(dir, `${file}.csr`);
  const ext = join(dir, `${file}.ext`);
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${names[0]}`, '-keyout', key, '-out', csr]);
  await writeFile(ext, `subjectAltName=${names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}\n`);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

/**
 * A leaf for `names` valid only from `start` to `end` (openssl's YYYYMMDDHHMMSSZ),
 * both in the past or the future as a test needs: `openssl x509` of OpenSSL 3.0
 * cannot set them, `openssl ca` can (with a throwaway database beside the files).
 */
export async function makeDatedLeaf(dir: string, ca: TestCa, file: string, names: string[], validity: { start: string; end: string }): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${file}.crt`);
  const key = join(dir, `${file}.key`);
  const csr = join(dir, `${file}.csr`);
  const db = join(dir, `${file}-db`);
  const conf = join(dir, `${file}.cnf`);
  await mkdir(db, { recursive: true });
  await writeFile(join(db, 'index.txt'), '');
  await writeFile(join(db, 'serial'), '01\n');
  await writeFile(
    conf,
    [`[ca]`, `default_ca = c`, `[c]`, `database = ${db}/index.txt`, `new_certs_dir = ${db}`, `serial = ${db}/serial`, `default_md = sha256`, `policy = p`, `unique_subject = no`, `[p]`, `commonName = supplied`, `[ext]`, `subjectAltName = ${names.map((n) => `DNS:${n}`).join(',')}`, ''].join('\n'),
  );
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${names[0]}`, '-keyout', key, '-out', csr]);
  await run('openssl', ['ca', '-batch', '-config', conf, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-startdate', validity.start, '-enddate', validity.end, '-extensions', 'ext', '-out', cert]);
  return { cert, key };
}
