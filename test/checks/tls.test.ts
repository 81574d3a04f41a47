import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { secretsAdapter } from '../../lib/aws/secrets.ts';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import { maxCaCertificates } from '../../lib/checks/tls.ts';
import type { Observation } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { type Moto, startMoto } from '../../local/moto.ts';
import { planProblems } from '../support/run-check.ts';

/**
 * The `tls` block (lib/checks/tls.ts) against real HTTPS listeners on 127.0.0.1: a self-signed
 * certificate (for 127.0.0.1 and localhost), and a certificate a private CA issued for
 * api.internal.example only, as an ALB reached by its DNS name serves the service's own certificate.
 */

const fixture = (name: string): string => readFileSync(`test/fixtures/tls/${name}`, 'utf8');
const selfSignedCert = fixture('self-signed-cert.pem');
const privateCa = fixture('private-ca-cert.pem');
const leafCert = fixture('private-leaf-cert.pem');
const leafKey = fixture('private-leaf-key.pem');

interface Listener {
  readonly url: string;
  readonly port: number;
  /** The SNI name of each request, '' when none was sent. */
  readonly names: string[];
  close(): Promise<void>;
}

async function listen(
  key: string,
  cert: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok'),
): Promise<Listener> {
  const names: string[] = [];
  const server: Server = createServer({ key, cert }, (req, res) => {
    const name = (req.socket as TLSSocket).servername;
    names.push(typeof name === 'string' ? name : '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    names,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function runOf(check: Record<string, unknown>, deps: Partial<CheckDeps> = {}, plan: Record<string, unknown> = {}) {
  const parsed = parsePlan({
    version: 1,
    allow: { addresses: ['loopback'] },
    hooks: { '*': ['subject'] },
    checks: { subject: check },
    ...plan,
  });
  const [run] = buildRuns(Object.values(parsed.checks), {}, { clock: systemClock, ...deps });
  if (!run) throw new Error('no run built');
  return run;
}

function measure(check: Record<string, unknown>, deps: Partial<CheckDeps> = {}, plan: Record<string, unknown> = {}) {
  return runOf(check, deps, plan).measure(AbortSignal.timeout(10_000));
}

function planError(act: () => unknown): readonly string[] {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).issues;
  }
  throw new Error('expected a PlanError');
}

let selfSigned: Listener;
let internal: Listener;

beforeAll(async () => {
  selfSigned = await listen(fixture('self-signed-key.pem'), selfSignedCert);
  internal = await listen(leafKey, leafCert);
});

afterAll(async () => {
  await selfSigned?.close();
  await internal?.close();
});

describe('http check: a self-signed listener', () => {
  it('is an error, never a pass, without tls.ca, and the reason points at tls.ca', async () => {
    const o = await measure({ type: 'http', url: `${selfSigned.url}/health` });
    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/TLS certificate rejected \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\)/);
    expect(o.message).toContain('tls.ca');
  });

  it('passes with its certificate in tls.ca', async () => {
    const o = await measure({ type: 'http', url: `${selfSigned.url}/health`, tls: { ca: selfSignedCert } });
    expect(o).toMatchObject({ outcome: 'pass', value: 200 });
  });

  it('is an error with a tls.serverName the certificate does not hold, and says which name was verified', async () => {
    const o = await measure({
      type: 'http',
      url: `${selfSigned.url}/health`,
      tls: { ca: selfSignedCert, serverName: 'api.internal.example' },
    });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('TLS certificate rejected (ERR_TLS_CERT_ALTNAME_INVALID)');
    expect(o.message).toContain('api.internal.example (tls.serverName)');
  });

  it('sends tls.serverName as SNI and verifies that name, not the URL host', async () => {
    const before = selfSigned.names.length;
    const o = await measure({
      type: 'http',
      url: `${selfSigned.url}/`,
      tls: { ca: selfSignedCert, serverName: 'localhost' },
    });
    expect(o.outcome).toBe('pass');
    expect(selfSigned.names.slice(before)).toEqual(['localhost']);
  });
});

describe('http check: a private CA listener whose certificate names another host (api.internal.example)', () => {
  it('passes with the CA in tls.ca and the certificate name in tls.serverName', async () => {
    const before = internal.names.length;
    const o = await measure({
      type: 'http',
      url: `${internal.url}/health`,
      tls: { ca: privateCa, serverName: 'api.internal.example' },
    });
    expect(o).toMatchObject({ outcome: 'pass', value: 200 });
    expect(internal.names.slice(before)).toEqual(['api.internal.example']);
  });

  it('is an error with the CA but without serverName: the URL host 127.0.0.1 is verified, and fails', async () => {
    const o = await measure({ type: 'http', url: `${internal.url}/health`, tls: { ca: privateCa } });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('is an error without the CA, even with the right serverName', async () => {
    const o = await measure({ type: 'http', url: `${internal.url}/`, tls: { serverName: 'api.internal.example' } });
    expect(o.outcome).toBe('error');
    expect(o.message).toMatch(/TLS certificate rejected \(UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)\)/);
  });

  it('trusts ONLY tls.ca for the check: another certificate is not trusted beside it', async () => {
    // The self-signed listener is not issued by the private CA: with tls.ca it is refused.
    const o = await measure({
      type: 'http',
      url: `${selfSigned.url}/`,
      tls: { ca: privateCa, serverName: 'localhost' },
    });
    expect(o.outcome).toBe('error');
    expect(o.message).toContain("not issued by the check's tls.ca");
  });

  it('trusts every certificate of a bundle (a CA rotation)', async () => {
    const o = await measure({
      type: 'http',
      url: `${internal.url}/`,
      tls: { ca: `${selfSignedCert}\n${privateCa}`, serverName: 'api.internal.example' },
    });
    expect(o.outcome).toBe('pass');
  });
});

describe('tls and the egress rules', () => {
  it('keeps tls on a redirect to the same host', async () => {
    const hopping = await listen(fixture('self-signed-key.pem'), selfSignedCert, (req, res) => {
      if (req.url === '/a') res.writeHead(302, { location: '/b' }).end();
      else res.end('b');
    });
    try {
      const o = await measure({
        type: 'http',
        url: `${hopping.url}/a`,
        followRedirects: 2,
        tls: { ca: selfSignedCert },
        expect: { bodyContains: 'b' },
      });
      expect(o.outcome).toBe('pass');
    } finally {
      await hopping.close();
    }
  });

  it('verifies a hop to another host the default way: tls vouches only for the host the check targets', async () => {
    // Same server, reached as localhost (in the certificate): allowed by allow.origins, not by tls.
    const hopping = await listen(fixture('self-signed-key.pem'), selfSignedCert, (req, res) => {
      if (req.url === '/a') res.writeHead(302, { location: `https://localhost:${port()}/b` }).end();
      else res.end('b');
    });
    const port = (): number => hopping.port;
    try {
      const o = await measure(
        { type: 'http', url: `${hopping.url}/a`, followRedirects: 2, tls: { ca: selfSignedCert } },
        { pinned: new Map([['localhost', '127.0.0.1']]) },
        { allow: { addresses: ['loopback'], origins: [`https://localhost:${hopping.port}`] } },
      );
      expect(o.outcome).toBe('error');
      expect(o.message).toContain('https://localhost:');
      expect(o.message).toMatch(/TLS certificate rejected/);
    } finally {
      await hopping.close();
    }
  });

  it('still refuses a redirect to an origin the plan does not allow, tls or not', async () => {
    const hopping = await listen(fixture('self-signed-key.pem'), selfSignedCert, (_req, res) =>
      res.writeHead(302, { location: 'https://localhost:1/elsewhere' }).end(),
    );
    try {
      const o = await measure({
        type: 'http',
        url: `${hopping.url}/`,
        followRedirects: 2,
        tls: { ca: selfSignedCert },
      });
      expect(o.outcome).toBe('fail');
      expect(o.message).toContain('refused');
    } finally {
      await hopping.close();
    }
  });
});

describe('compare check', () => {
  it('probes both sides with the tls block', async () => {
    const blue = await listen(leafKey, leafCert);
    onTestFinished(() => blue.close());
    const check = {
      type: 'compare',
      blue: blue.url,
      green: internal.url,
      path: '/health',
      samples: 2,
      tls: { ca: privateCa, serverName: 'api.internal.example' },
    };
    expect((await measure(check)).outcome).toBe('pass');
    const { tls: _tls, ...without } = check;
    const o = await measure(without);
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('no baseline');
  });
});

describe('prometheus check', () => {
  it('reads a private-CA Prometheus with the tls block, and is an error without it', async () => {
    const now = Date.now() / 1000;
    const prom = await listen(leafKey, leafCert, (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [now, '0'] }] },
        }),
      ),
    );
    try {
      const check = { type: 'prometheus', url: prom.url, query: 'up', threshold: 1 };
      const ok = await measure({ ...check, tls: { ca: privateCa, serverName: 'api.internal.example' } });
      expect(ok.outcome).toBe('pass');
      expect((await measure(check)).outcome).toBe('error');
    } finally {
      await prom.close();
    }
  });
});

describe('plan validation of tls', () => {
  const http = { type: 'http', url: 'https://green.example/health' };
  const key = fixture('self-signed-key.pem');

  it('accepts PEM certificates, a bundle, a {{secret:...}} reference and a DNS serverName', () => {
    expect(planProblems({ ...http, tls: { ca: privateCa } })).toEqual([]);
    expect(planProblems({ ...http, tls: { ca: `${privateCa}\n\n${selfSignedCert}` } })).toEqual([]);
    expect(planProblems({ ...http, tls: { serverName: 'api.internal.example' } })).toEqual([]);
    expect(
      planProblems({
        type: 'compare',
        tls: { ca: privateCa, serverName: 'API.internal.example' },
      }),
    ).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['not PEM', 'just some text', /tls\.ca: expected PEM certificates/],
    ['a private key', key, /tls\.ca: the block is a private key: give only the CA certificate, never a key/],
    ['a certificate and its key', `${selfSignedCert}\n${key}`, /tls\.ca: block 2 is a private key/],
    ['text around the certificate', `# my CA\n${privateCa}`, /nothing but whitespace between them/],
    ['a damaged certificate', privateCa.replace(/\n[A-Za-z0-9+/]{8}/, '\nAAAAAAAA'), /is not an X\.509 certificate/],
    ['a placeholder inside PEM', `${privateCa}{{secret:x}}`, /nothing mixed/],
    ['too many certificates', `${privateCa}\n`.repeat(maxCaCertificates + 1), /at most 16 certificates/],
    ['too long', 'x'.repeat(70_000), /at most 65536 characters/],
    ['a number', 42, /expected a string/],
  ])('refuses a ca that is %s, naming the field and never quoting it', (_what, ca, why) => {
    const problems = planProblems({ ...http, tls: { ca } });
    expect(problems.join('\n')).toMatch(why);
    // Neither the text nor any line of a certificate or key is quoted.
    const lines =
      typeof ca === 'string'
        ? ca.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----') && !l.includes('{{'))
        : [];
    for (const line of lines) expect(problems.join('\n')).not.toContain(line);
  });

  it.each(['127.0.0.1', '::1', 'api.example:443', '*.example.com', 'https://api.example', '-bad.example', ''])(
    'refuses serverName %j',
    (serverName) => {
      expect(planProblems({ ...http, tls: { serverName } }).join('\n')).toMatch(/checks\.subject\.tls\.serverName: /);
    },
  );

  it('refuses an empty block, an unknown field and rejectUnauthorized', () => {
    expect(planProblems({ ...http, tls: {} })).toEqual(['checks.subject.tls: give ca, serverName or both']);
    expect(planProblems({ ...http, tls: { serverName: 'a.example', rejectUnauthorized: false } })).toEqual([
      'checks.subject.tls.rejectUnauthorized: unknown field (expected one of: ca, serverName)',
    ]);
  });

  it('refuses tls on an http URL once the URL is known: the plan expects an authenticated listener', () => {
    const issues = planError(() => runOf({ type: 'http', url: 'http://127.0.0.1:1/', tls: { ca: privateCa } }));
    expect(issues).toEqual(['checks.subject.tls: applies to https URLs only; checks.subject.url is http:']);
  });
});

describe('a CA from an SSM secret (moto_server)', () => {
  let moto: Moto;
  let admin: SSMClient;
  const saved = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto();
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SSM: moto.url,
    });
    admin = new SSMClient({ endpoint: moto.url, region: 'us-east-1' });
    const put = (Name: string, Value: string) =>
      admin.send(new PutParameterCommand({ Name, Value, Type: 'SecureString', Overwrite: true }));
    await put('/greenlight/internal-ca', privateCa);
    await put('/greenlight/not-a-ca', 'hunter2-not-a-certificate');
  }, 60_000);

  afterAll(async () => {
    admin?.destroy();
    await moto?.stop();
    process.env = saved;
  });

  const withSecret = (ssm: string) => ({ secrets: { internalCa: { ssm } } });
  const check = {
    type: 'http',
    url: `https://127.0.0.1:1/health`,
    tls: { ca: '{{secret:internalCa}}', serverName: 'api.internal.example' },
  };

  it('passes against the private CA listener with the CA read from SSM', async () => {
    const o: Observation = await measure(
      { ...check, url: `${internal.url}/health` },
      { secrets: secretsAdapter() },
      withSecret('/greenlight/internal-ca'),
    );
    expect(o).toMatchObject({ outcome: 'pass', value: 200 });
  });

  it('is an error naming tls.ca, never quoting the value, when the secret holds no certificate', async () => {
    const o = await measure(
      { ...check, url: `${internal.url}/health` },
      { secrets: secretsAdapter() },
      withSecret('/greenlight/not-a-ca'),
    );
    expect(o.outcome).toBe('error');
    expect(o.message).toContain('checks.subject.tls.ca: expected PEM certificates');
    expect(o.message).not.toContain('hunter2');
  });
});
