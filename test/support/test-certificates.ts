import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A self-signed EC certificate and its key in `dir`, made with openssl (no CA trusts it). */
export function selfSignedCertificate(
  dir: string,
  subject = '/CN=unit'
): { certFile: string; keyFile: string; cert: string; key: string } {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      subject,
      '-keyout',
      keyFile,
      '-out',
      certFile
    ],
    { stdio: 'pipe' }
  )
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8')
  }
}
