import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { PlanError } from '../spec/errors.ts';
import { describe, type Fields, join } from '../spec/fields.ts';
import { secretOnly } from './provider-http.ts';

/**
 * A check's `tls` block: how an HTTPS probe authenticates a listener whose certificate the public CAs
 * do not vouch for (a private CA, a self-signed certificate), or whose certificate names another host
 * than the URL (the probe targets an ALB DNS name, the certificate is for `api.internal.example`).
 *
 * Strict by default and never looser: without `tls` the system CAs are trusted and the URL's host is
 * verified. With `ca`, ONLY the given certificates are trusted for that check (Node's `ca` option
 * replaces the default store, which is what a private-CA listener needs: a public CA can then not vouch
 * for it). `serverName` is sent as SNI (RFC 6066 section 3) and is the name the certificate must hold
 * (RFC 9110 section 4.3.4, RFC 6125). Certificate verification is never turned off.
 */
export interface TlsSpec {
  /** PEM certificates to trust instead of the system CAs, or `{{secret:name}}` (filled when the check measures). */
  readonly ca?: string;
  /** The name sent as SNI and verified in the certificate, instead of the URL's host. */
  readonly serverName?: string;
}

/** What `node:https` takes from a `TlsSpec`: the trusted certificates and the SNI / verified name. */
export interface TlsOptions {
  readonly ca?: string[];
  readonly servername?: string;
}

export const tlsFields = ['ca', 'serverName'] as const;

/** Bounds a bundle: a private CA with its intermediates, several private CAs during a rotation. */
export const maxCaBytes = 64 * 1024;
export const maxCaCertificates = 16;

const pemBlock = /-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n([A-Za-z0-9+/=\r\n]{1,65536}?)\r?\n?-----END \1-----/g;
const hostLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** Reads a check's `tls` block; problems name the field and never quote its value. */
export function readTls(value: unknown, path: string, f: Fields): TlsSpec | undefined {
  const raw = f.object(value, path, tlsFields);
  if (!raw) return undefined;
  const before = f.issues.length;
  if (raw.ca === undefined && raw.serverName === undefined) f.problem(path, 'give ca, serverName or both');
  let ca: string | undefined;
  if (raw.ca !== undefined) {
    ca = f.string(raw.ca, join(path, 'ca'), { max: maxCaBytes });
    // A secret is checked once it is read; a certificate written in the plan is checked now.
    if (ca !== undefined && !secretOnly.test(ca)) {
      if (ca.includes('{{')) {
        f.problem(join(path, 'ca'), 'expected PEM certificates or one {{secret:name}} reference, nothing mixed');
      } else {
        const why = pemProblem(ca);
        if (why !== undefined) f.problem(join(path, 'ca'), why);
      }
    }
  }
  let serverName: string | undefined;
  if (raw.serverName !== undefined) {
    serverName = f.string(raw.serverName, join(path, 'serverName'), { max: 253 });
    if (serverName !== undefined && !isHostName(serverName)) {
      f.problem(
        join(path, 'serverName'),
        `expected a DNS name such as api.internal.example (not an IP address, no port, no wildcard), got ${describe(raw.serverName)}`,
      );
    }
  }
  if (f.issues.length > before) return undefined;
  return { ...(ca === undefined ? {} : { ca }), ...(serverName === undefined ? {} : { serverName }) };
}

/**
 * The `node:https` options of a filled `tls` block; throws a `PlanError` naming `path` when `ca` (a
 * secret's value by now) is not PEM certificates. The message describes the problem, never the value.
 */
export function tlsOptions(tls: TlsSpec | undefined, path: string): TlsOptions | undefined {
  if (tls === undefined) return undefined;
  let ca: string[] | undefined;
  if (tls.ca !== undefined) {
    const why = tls.ca.length > maxCaBytes ? `must be at most ${maxCaBytes} characters` : pemProblem(tls.ca);
    if (why !== undefined) throw new PlanError([`${join(path, 'ca')}: ${why}`]);
    ca = [...tls.ca.matchAll(pemBlock)].map((m) => m[0]);
  }
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
  };
}

/**
 * The `node:https` options of a check's filled `tls` for its `url` (a `PlanError` naming `path`'s fields
 * when `ca` is not PEM certificates, or when the URL is not https: a plan that names a CA or a server
 * name expects an authenticated listener, and plain http is not one).
 */
export function httpsTls(tls: TlsSpec | undefined, url: URL, path: string): TlsOptions | undefined {
  if (tls === undefined) return undefined;
  if (url.protocol !== 'https:') {
    throw new PlanError([`${join(path, 'tls')}: applies to https URLs only; ${join(path, 'url')} is ${url.protocol}`]);
  }
  return tlsOptions(tls, join(path, 'tls'));
}

/**
 * Why `text` is not a bundle of PEM certificates (RFC 7468), or undefined when it is: only
 * `CERTIFICATE` blocks with whitespace between them, each an X.509 certificate Node can read.
 */
export function pemProblem(text: string): string | undefined {
  const shape = 'expected PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)';
  const blocks = [...text.matchAll(pemBlock)];
  if (blocks.length === 0) {
    return /PRIVATE KEY-----/.test(text)
      ? 'holds a private key: give only the CA certificate, never a key'
      : `${shape}, got ${describe(text)} without one`;
  }
  if (text.replace(pemBlock, '').trim() !== '') return `${shape}, with nothing but whitespace between them`;
  if (blocks.length > maxCaCertificates) return `must hold at most ${maxCaCertificates} certificates`;
  for (const [i, block] of blocks.entries()) {
    const n = blocks.length === 1 ? 'the block' : `block ${i + 1}`;
    if (block[1] !== 'CERTIFICATE') {
      return /PRIVATE KEY/.test(block[1] ?? '')
        ? `${n} is a private key: give only the CA certificate, never a key`
        : `${n} is a ${block[1]}, expected a CERTIFICATE`;
    }
    try {
      new X509Certificate(block[0]);
    } catch {
      return `${n} is not an X.509 certificate`;
    }
  }
  return undefined;
}

function isHostName(name: string): boolean {
  if (isIP(name) !== 0 || name.length > 253) return false;
  return name.split('.').every((label) => hostLabel.test(label));
}
