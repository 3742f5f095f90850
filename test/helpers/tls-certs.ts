import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCerts {
  /** the CA that signed the server certificate (what REDIS_TLS_CA_FILE points at) */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * A throw-away CA and a server certificate it signed for the name localhost
 * (and the address 127.0.0.1 unless `nameOnly`, to check that clients
 * connect by name), made with the openssl command line into dir (the caller
 * removes dir). Elliptic-curve keys: quick to make.
 */
export async function makeTestCerts(dir: string, opts: { nameOnly?: boolean } = {}): Promise<TestCerts> {
  const f = (name: string): string => join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=quotaflow test CA']);
  await run('openssl', ['req', ...key, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  await writeFile(f('server.ext'), `subjectAltName=DNS:localhost${opts.nameOnly ? '' : ',IP:127.0.0.1'}\n`);
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext')]);
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}
