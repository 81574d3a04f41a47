import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRuns } from '../../lib/checks/build-runs.ts';
import {
  type AddressClass,
  classifyAddress,
  defaultAllow,
  deploymentListeners,
  type Egress,
  EgressRefusedError,
  hostMatches,
  probeGuard,
} from '../../lib/checks/egress.ts';
import type { CheckDeps } from '../../lib/checks/kind.ts';
import type { Lookup } from '../../lib/checks/resolve.ts';
import type { Observation } from '../../lib/core/types.ts';
import { parsePlan } from '../../lib/plan/schema.ts';
import { systemClock } from '../../lib/runtime/clock.ts';
import { PlanError } from '../../lib/spec/errors.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { loopbackOnly, type Tripwire } from '../support/loopback-only.ts';

/** A DNS that answers from a table, remembering what it was asked; a name it does not know is ENOTFOUND. */
function fakeDns(table: Record<string, string[]>): Lookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = ((hostname, options, callback) => {
    asked.push(hostname);
    const addresses = table[hostname.toLowerCase()];
    setImmediate(() => {
      if (!addresses) {
        const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        error.code = 'ENOTFOUND';
        callback(error, options.all ? [] : '');
        return;
      }
      const list: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
      if (options.all) callback(null, list);
      else callback(null, list[0]?.address ?? '', list[0]?.family);
    });
  }) as Lookup & { asked: string[] };
  lookup.asked = asked;
  return lookup;
}

/** What the guard's lookup answers for `host`: the addresses, or the refusal. */
function resolveThrough(lookup: Lookup, host: string): Promise<string[] | Error> {
  return new Promise((resolve) => {
    lookup(host, { all: true }, (error, found) => {
      if (error) resolve(error);
      else resolve((found as LookupAddress[]).map((a) => a.address));
    });
  });
}

const egress = (allow: Partial<Egress['allow']> = {}, deploymentHosts: string[] = []): Egress => ({
  allow: { ...defaultAllow, ...allow },
  deploymentHosts: new Set(deploymentHosts),
});

/** Runs one measurement of a plan's only check, built as a trigger builds it. */
async function measure(
  plan: Record<string, unknown>,
  deps: Partial<CheckDeps> = {},
  context: Record<string, string> = {},
): Promise<Observation> {
  const parsed = parsePlan({ version: 1, hooks: { '*': ['subject'] }, ...plan });
  const check = parsed.checks.subject;
  if (!check) throw new Error('no check');
  const [run] = buildRuns([check], context, { clock: systemClock, ...deps });
  if (!run) throw new Error('no run');
  return run.measure(AbortSignal.timeout(5_000));
}

describe('classifyAddress', () => {
  it.each<[string, AddressClass]>([
    ['8.8.8.8', 'public'],
    ['52.94.236.248', 'public'],
    ['2600:1f18:4a3:6902::1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::253', 'private'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.253', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['169.254.170.23', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['fd00:ec2:0:0:0:0:0:254', 'metadata'],
    ['fd00:ec2::23', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::169.254.169.254', 'metadata'],
    ['64:ff9b::169.254.169.254', 'metadata'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::808:808', 'public'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2002:7f00:1::1', 'loopback'],
    ['0.0.0.0', 'reserved'],
    ['0.1.2.3', 'reserved'],
    ['::', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['ff02::1', 'reserved'],
    ['not an address', 'reserved'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe('hostMatches', () => {
  it.each<[string, string, boolean]>([
    ['api.example.com', 'api.example.com', true],
    ['api.example.com', 'API.Example.com.', true],
    ['api.example.com', 'www.example.com', false],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'badexample.com', false],
    ['*', 'anything.test', true],
    ['[::1]', '::1', true],
  ])('%s matches %s: %s', (pattern, host, expected) => {
    expect(hostMatches(pattern, host)).toBe(expected);
  });
});

describe('the plan allow block', () => {
  const check = { type: 'http', url: 'https://api.example.com/health' };

  it('defaults to http and https, no address range beyond public ones, and the check’s own host', () => {
    const plan = parsePlan({ version: 1, hooks: { '*': ['c'] }, checks: { c: check } });
    expect(plan.allow).toBeUndefined();
    expect(plan.checks.c?.allow).toBeUndefined();
  });

  it('is read, normalized, and carried by every check', () => {
    const plan = parsePlan({
      version: 1,
      allow: { hosts: ['API.example.com', '*.elb.amazonaws.com'], schemes: ['https'], addresses: ['private'] },
      hooks: { '*': ['c'] },
      checks: { c: check },
    });
    const allow = { hosts: ['api.example.com', '*.elb.amazonaws.com'], schemes: ['https'], addresses: ['private'] };
    expect(plan.allow).toEqual(allow);
    expect(plan.checks.c?.allow).toEqual(allow);
  });

  it('names every field at fault', () => {
    const act = () =>
      parsePlan({
        version: 1,
        allow: {
          hosts: ['ok.example', 'bad host', 42],
          schemes: [],
          addresses: ['loopback', 'everything'],
          ports: [80],
        },
        hooks: { '*': ['c'] },
        checks: { c: check },
      });
    expect(act).toThrow(PlanError);
    try {
      act();
    } catch (error) {
      expect((error as PlanError).issues).toEqual([
        'allow.ports: unknown field (expected one of: hosts, schemes, addresses, origins)',
        'allow.hosts[1]: expected a host name, *.domain, an IP address or *, got "bad host"',
        'allow.hosts[2]: expected a string, got a number',
        'allow.addresses[1]: expected one of loopback, private, link-local, metadata, got "everything"',
        'allow.schemes: must list http, https or both',
      ]);
    }
  });
});

describe('the probe guard’s lookup (no connection made)', () => {
  const dns = fakeDns({
    'metadata.test': ['169.254.169.254'],
    'metadata6.test': ['fd00:ec2::254'],
    'mixed.test': ['93.184.215.14', '169.254.169.254'],
    'internal.test': ['10.0.3.7'],
    'local.test': ['127.0.0.1'],
    'link.test': ['169.254.10.10'],
    'mapped.test': ['::ffff:10.0.0.1'],
    'zero.test': ['0.0.0.0'],
    'public.test': ['93.184.215.14'],
    'internal-alb.us-east-1.elb.amazonaws.com': ['10.0.7.20', '10.0.8.21'],
  });
  const guard = (e: Egress, pinned = new Map<string, string>()) =>
    probeGuard({ egress: e, ownHost: 'any.test', pinned, lookup: dns });

  it.each<[string, RegExp]>([
    [
      'metadata.test',
      /metadata\.test resolves to 169\.254\.169\.254, a metadata address, and allow\.addresses does not list metadata/,
    ],
    ['metadata6.test', /resolves to fd00:ec2::254, a metadata address/],
    ['mixed.test', /resolves to 169\.254\.169\.254, a metadata address/],
    ['internal.test', /resolves to 10\.0\.3\.7, a private address, and allow\.addresses does not list private/],
    ['local.test', /a loopback address, and allow\.addresses does not list loopback/],
    ['link.test', /a link-local address/],
    ['mapped.test', /resolves to ::ffff:10\.0\.0\.1, a private address/],
    ['zero.test', /0\.0\.0\.0, a reserved address, never probed/],
  ])('refuses %s after resolving it', async (host, why) => {
    const answer = await resolveThrough(guard(egress()).lookup, host);
    expect(answer).toBeInstanceOf(EgressRefusedError);
    expect((answer as Error).message).toMatch(why);
  });

  it('passes public answers through unchanged', async () => {
    expect(await resolveThrough(guard(egress()).lookup, 'public.test')).toEqual(['93.184.215.14']);
  });

  it('lets a deployment listener host resolve to private addresses (internal load balancers), but no other host', async () => {
    const e = egress({}, ['internal-alb.us-east-1.elb.amazonaws.com']);
    expect(await resolveThrough(guard(e).lookup, 'internal-alb.us-east-1.elb.amazonaws.com')).toEqual([
      '10.0.7.20',
      '10.0.8.21',
    ]);
    expect(await resolveThrough(guard(e).lookup, 'internal.test')).toBeInstanceOf(EgressRefusedError);
  });

  it('gives a deployment listener host no loopback, link-local or metadata addresses', async () => {
    const e = egress({}, ['metadata.test', 'local.test']);
    expect(await resolveThrough(guard(e).lookup, 'metadata.test')).toBeInstanceOf(EgressRefusedError);
    expect(await resolveThrough(guard(e).lookup, 'local.test')).toBeInstanceOf(EgressRefusedError);
  });

  it('allows exactly the ranges the plan lists, and never a reserved address', async () => {
    const e = egress({ addresses: ['private', 'metadata'] });
    expect(await resolveThrough(guard(e).lookup, 'internal.test')).toEqual(['10.0.3.7']);
    expect(await resolveThrough(guard(e).lookup, 'metadata.test')).toEqual(['169.254.169.254']);
    expect(await resolveThrough(guard(e).lookup, 'local.test')).toBeInstanceOf(EgressRefusedError);
    const all = egress({ addresses: ['loopback', 'private', 'link-local', 'metadata'] });
    expect(await resolveThrough(guard(all).lookup, 'zero.test')).toBeInstanceOf(EgressRefusedError);
  });

  it('answers a pinned name (GREENLIGHT_RESOLVE) with its address, without DNS or address rules', async () => {
    dns.asked.length = 0;
    const pinned = new Map([['green.test', '127.0.0.1']]);
    expect(await resolveThrough(guard(egress(), pinned).lookup, 'GREEN.test')).toEqual(['127.0.0.1']);
    expect(dns.asked).toEqual([]);
  });

  it('passes a DNS failure through as it is', async () => {
    const answer = await resolveThrough(guard(egress()).lookup, 'nowhere.test');
    expect(answer).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('the probe guard’s URL rules (no connection made)', () => {
  const refuse = (url: string, e: Egress, ownHost = 'green.example') =>
    probeGuard({ egress: e, ownHost }).refuse(new URL(url));

  it('refuses a scheme the plan does not allow', () => {
    expect(refuse('http://green.example/', egress({ schemes: ['https'] }))).toBe(
      'scheme http is not in allow.schemes (https)',
    );
    expect(refuse('https://green.example/', egress({ schemes: ['https'] }))).toBeUndefined();
  });

  it('without allow.hosts, allows only the check’s own host and the deployment’s listeners', () => {
    const e = egress({}, ['my-alb-123.us-east-1.elb.amazonaws.com']);
    expect(refuse('https://green.example/x', e)).toBeUndefined();
    expect(refuse('https://my-alb-123.us-east-1.elb.amazonaws.com/x', e)).toBeUndefined();
    expect(refuse('https://elsewhere.example/x', e)).toMatch(
      /host elsewhere\.example is not the check's own host \(green\.example\) nor a deployment listener; list it in allow\.hosts/,
    );
  });

  it('with allow.hosts, allows only matching hosts and the deployment’s listeners, the check’s own host included', () => {
    const e = egress({ hosts: ['*.example.com'] }, ['my-alb.elb.amazonaws.com']);
    expect(refuse('https://api.example.com/', e, 'api.example.com')).toBeUndefined();
    expect(refuse('https://my-alb.elb.amazonaws.com/', e, 'api.example.com')).toBeUndefined();
    expect(refuse('https://green.example/', e, 'green.example')).toBe('host green.example is not in allow.hosts');
  });

  it.each<[string, RegExp]>([
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a metadata address/],
    ['http://[fd00:ec2::254]/latest/meta-data/', /fd00:ec2::254 is a metadata address/],
    ['http://[::ffff:169.254.169.254]/', /::ffff:a9fe:a9fe is a metadata address/],
    ['http://2852039166/', /169\.254\.169\.254 is a metadata address/],
    ['http://0xa9.0xfe.0xa9.0xfe/', /169\.254\.169\.254 is a metadata address/],
    ['http://127.0.0.1:9001/2018-06-01/runtime/invocation/next', /127\.0\.0\.1 is a loopback address/],
    ['http://[::1]/', /::1 is a loopback address/],
    ['http://0.0.0.0:8080/', /0\.0\.0\.0 is a reserved address, never probed/],
    ['http://10.0.0.5/', /10\.0\.0\.5 is a private address/],
    ['http://169.254.1.1/', /169\.254\.1\.1 is a link-local address/],
  ])('refuses the literal address of %s', (url, why) => {
    expect(refuse(url, egress({ hosts: ['*'] }))).toMatch(why);
  });
});

describe('the http and compare checks go through the guard (real servers on loopback)', () => {
  let target: HttpTarget;
  let tripwire: Tripwire;

  beforeAll(async () => {
    target = await startHttpTarget();
  });

  afterAll(async () => {
    await target.close();
  });

  beforeEach(() => {
    tripwire = loopbackOnly();
    target.hits.length = 0;
  });

  afterEach(() => {
    tripwire.restore();
  });

  const redirectTo = (location: string) => {
    target.respond((req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { location });
        res.end();
      } else res.end('reached');
    });
  };

  it('refuses a literal loopback URL when the plan does not allow loopback, naming the field and the rule', async () => {
    await expect(measure({ checks: { subject: { type: 'http', url: `${target.url}/health` } } })).rejects.toThrow(
      /checks\.subject\.url: refused: 127\.0\.0\.1 is a loopback address, and allow\.addresses does not list loopback/,
    );
    expect(target.hits).toEqual([]);
  });

  it('probes loopback when the plan allows it (local rehearsal)', async () => {
    const o = await measure({
      allow: { addresses: ['loopback'] },
      checks: { subject: { type: 'http', url: `${target.url}/health` } },
    });
    expect(o.outcome).toBe('pass');
  });

  it.each([
    [
      'the metadata service',
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      /169\.254\.169\.254 is a metadata address/,
    ],
    ['the IPv6 metadata service', 'http://[fd00:ec2::254]/latest/api/token', /fd00:ec2::254 is a metadata address/],
    ['the ECS credentials endpoint', 'http://169.254.170.2/v2/credentials/x', /169\.254\.170\.2 is a metadata address/],
    ['a link-local address', 'http://169.254.0.1/', /a link-local address/],
    ['a private address', 'http://10.0.0.1/admin', /10\.0\.0\.1 is a private address/],
  ])('fails, never following, a redirect to %s', async (_name, location, why) => {
    redirectTo(location);
    const o = await measure({
      allow: { hosts: ['*'], addresses: ['loopback'] },
      checks: { subject: { type: 'http', url: `${target.url}/start`, followRedirects: true } },
    });
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/redirect to .* refused: /);
    expect(o.message).toMatch(why);
    expect(tripwire.blocked).toEqual([]);
  });

  it('fails a redirect to loopback when only the first host was pinned to it', async () => {
    redirectTo(`http://127.0.0.1:${target.port}/admin`);
    const o = await measure(
      {
        allow: { hosts: ['*'] },
        checks: { subject: { type: 'http', url: `http://green.test:${target.port}/start`, followRedirects: true } },
      },
      { pinned: new Map([['green.test', '127.0.0.1']]) },
    );
    expect(o).toMatchObject({ outcome: 'fail' });
    expect(o.message).toMatch(/refused: 127\.0\.0\.1 is a loopback address/);
    expect(target.hits).toEqual(['/start']);
  });

  it('fails a redirect to a host whose DNS answer is the metadata address, checked after resolution', async () => {
    const dns = fakeDns({ 'metadata.test': ['169.254.169.254'] });
    redirectTo('http://metadata.test/latest/meta-data/');
    const o = await measure(
      {
        allow: { hosts: ['*'], addresses: ['loopback'], origins: ['http://metadata.test'] },
        checks: { subject: { type: 'http', url: `${target.url}/start`, followRedirects: true } },
      },
      { lookup: dns },
    );
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/refused: metadata\.test resolves to 169\.254\.169\.254, a metadata address/);
    expect(dns.asked).toEqual(['metadata.test']);
    expect(tripwire.blocked).toEqual([]);
  });

  it('fails a redirect to another host unless allow.origins lists its origin (within allow.hosts), then follows it', async () => {
    redirectTo(`http://other.test:${target.port}/next`);
    const pinned = new Map([
      ['green.test', '127.0.0.1'],
      ['other.test', '127.0.0.1'],
    ]);
    const check = { type: 'http', url: `http://green.test:${target.port}/start`, followRedirects: true };

    const refused = await measure({ checks: { subject: check } }, { pinned });
    const hostOnly = await measure({ allow: { hosts: ['*.test'] }, checks: { subject: check } }, { pinned });
    const followed = await measure(
      { allow: { hosts: ['*.test'], origins: [`http://other.test:${target.port}`] }, checks: { subject: check } },
      { pinned },
    );
    const withoutHosts = await measure(
      { allow: { origins: [`http://*.test:${target.port}`] }, checks: { subject: check } },
      { pinned },
    );

    expect(refused.outcome).toBe('fail');
    expect(refused.message).toMatch(
      /host other\.test is not the check's own host \(green\.test\) nor a deployment listener; list its origin in allow\.origins/,
    );
    expect(hostOnly.outcome).toBe('fail');
    expect(hostOnly.message).toContain(
      `origin http://other.test:${target.port} is not the origin the check targets (http://green.test:${target.port}) nor in allow.origins`,
    );
    expect(followed).toMatchObject({ outcome: 'pass' });
    expect(withoutHosts).toMatchObject({ outcome: 'pass' });
    expect(target.hits).toEqual(['/start', '/start', '/start', '/next', '/start', '/next']);
  });

  it('fails a redirect to a scheme the plan does not allow', async () => {
    redirectTo(`https://green.test:${target.port}/secure`);
    const o = await measure(
      {
        allow: { schemes: ['http'] },
        checks: { subject: { type: 'http', url: `http://green.test:${target.port}/start`, followRedirects: true } },
      },
      { pinned: new Map([['green.test', '127.0.0.1']]) },
    );
    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/scheme https is not in allow\.schemes \(http\)/);
  });

  it('lets a deployment listener name (from the context) be probed without allow.hosts', async () => {
    const url = `http://listener.test:${target.port}`;
    const o = await measure(
      { checks: { subject: { type: 'http', url: '{{testListenerUrl}}/health' } } },
      { pinned: new Map([['listener.test', '127.0.0.1']]) },
      { testListenerUrl: url },
    );
    expect(o.outcome).toBe('pass');
  });

  it('is an error naming the DNS failure when the name does not resolve', async () => {
    const o = await measure(
      { allow: { hosts: ['*'] }, checks: { subject: { type: 'http', url: 'http://gone.test/health' } } },
      { lookup: fakeDns({}) },
    );
    expect(o).toEqual({ outcome: 'error', message: 'GET http://gone.test/health: DNS lookup failed (ENOTFOUND)' });
  });

  it('refuses compare probes the same way, per side', async () => {
    const act = measure(
      { checks: { subject: { type: 'compare', path: '/health', samples: 1 } } },
      {},
      { prodListenerUrl: 'http://169.254.169.254', testListenerUrl: target.url },
    );
    await expect(act).rejects.toThrow(/checks\.subject\.blue\.url: refused: 169\.254\.169\.254 is a metadata address/);
  });
});

/** An IPv4 address as 32 bits, and as the two 16-bit hex groups IPv6 spells it with. */
function v4Bits(dotted: string): number {
  return dotted.split('.').reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
}
const hex16 = (n: number): string => (n & 0xffff).toString(16);
const hexPair = (n: number): string => `${hex16(n >>> 16)}:${hex16(n)}`;
const byte = (n: number, i: number): number => (n >>> (24 - 8 * i)) & 0xff;
const group = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);

/**
 * Every way the issue names of writing an IPv6 address that carries `dotted`: each translation prefix
 * (RFC 4291 mapped / compatible, RFC 6145 / 7915 translated, RFC 6052 well-known, RFC 8215 local-use at
 * every RFC 6052 length, 6to4, Teredo, ISATAP), in dotted and hex spellings.
 */
function embeddings(dotted: string): [string, string][] {
  const n = v4Bits(dotted);
  const b = (i: number): number => byte(n, i);
  return [
    ['IPv4-mapped, dotted', `::ffff:${dotted}`],
    ['IPv4-mapped, hex', `::ffff:${hexPair(n)}`],
    ['IPv4-compatible, dotted', `::${dotted}`],
    ['IPv4-compatible, hex', `::${hexPair(n)}`],
    ['IPv4-translated (RFC 6145), dotted', `::ffff:0:${dotted}`],
    ['IPv4-translated (RFC 6145), hex', `::ffff:0:${hexPair(n)}`],
    ['NAT64 64:ff9b::/96, dotted', `64:ff9b::${dotted}`],
    ['NAT64 64:ff9b::/96, hex', `64:ff9b::${hexPair(n)}`],
    ['local-use 64:ff9b:1::/96, dotted', `64:ff9b:1::${dotted}`],
    ['local-use 64:ff9b:1::/48', `64:ff9b:1:${group(b(0), b(1))}:${group(0, b(2))}:${group(b(3), 0)}::`],
    ['local-use 64:ff9b:1::/56', `64:ff9b:1:${group(0, b(0))}:${group(0, b(1))}:${group(b(2), b(3))}::`],
    ['local-use 64:ff9b:1::/64', `64:ff9b:1:0:${group(0, b(0))}:${group(b(1), b(2))}:${group(b(3), 0)}:0`],
    ['6to4 2002::/16', `2002:${hexPair(n)}::1`],
    ['Teredo 2001::/32 (client obfuscated)', `2001:0:4136:e378:8000:63bf:${hexPair(~n >>> 0)}`],
    ['ISATAP interface id', `2600:1f18::5efe:${dotted}`],
  ];
}

/** Other spellings of one IPv6 address: upper case, every group written out, zero-padded, with a zone id. */
function spellings(address: string): string[] {
  const groups = parseGroups(address);
  return [
    address,
    address.toUpperCase(),
    groups.map((g) => g.toString(16)).join(':'),
    groups.map((g) => g.toString(16).padStart(4, '0')).join(':'),
    `${address}%eth0`,
    `${groups.map((g) => g.toString(16).padStart(4, '0').toUpperCase()).join(':')}%25`,
  ];
}

/** Eight groups of an IPv6 address, through the WHATWG URL parser (independent of the code under test). */
function parseGroups(address: string): number[] {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((x) => Number.parseInt(x, 16));
}

describe('IPv6 addresses that carry an IPv4 address are judged by it (RFC 4291, 6052, 6145 / 7915, 8215, 3056, 4380)', () => {
  const forbidden: [string, AddressClass][] = [
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
  ];
  const cases = forbidden.flatMap(([v4, cls]) =>
    embeddings(v4).flatMap(([form, address]) =>
      spellings(address).map((spelled): [string, string, string, AddressClass] => [v4, form, spelled, cls]),
    ),
  );

  it.each(cases)('%s as %s (%s) is never public: %s', (_v4, _form, spelled, cls) => {
    expect(classifyAddress(spelled)).toBe(cls);
  });

  it.each(embeddings('8.8.8.8'))('8.8.8.8 as %s (%s) stays public', (_form, address) => {
    for (const spelled of spellings(address)) expect(classifyAddress(spelled)).toBe('public');
  });

  it.each(spellings('fd00:ec2::254'))('the IPv6 metadata address spelled %s is metadata', (spelled) => {
    expect(classifyAddress(spelled)).toBe('metadata');
  });

  it('refuses a URL that spells the metadata address through any of the translation prefixes', () => {
    const refuse = (url: string) => probeGuard({ egress: egress({ hosts: ['*'] }), ownHost: 'x' }).refuse(new URL(url));
    for (const [form, address] of embeddings('169.254.169.254')) {
      expect(refuse(`http://[${address}]/latest/meta-data/`), form).toMatch(/is a metadata address/);
    }
  });

  it('refuses a DNS answer that spells the ECS credentials address through a translation prefix', async () => {
    const dns = fakeDns({ 'ecs.test': ['64:ff9b:1:a9fe:aa:200::'] });
    const guard = probeGuard({ egress: egress({ addresses: ['private', 'link-local'] }), ownHost: 'x', lookup: dns });
    const answer = await resolveThrough(guard.lookup, 'ecs.test');
    expect(answer).toBeInstanceOf(EgressRefusedError);
    expect((answer as Error).message).toMatch(/a metadata address, and allow\.addresses does not list metadata/);
  });

  it('property: no embedding of a loopback, private, link-local or metadata IPv4 address reads as public (fast-check, fixed seed)', () => {
    // Drawn from the forbidden ranges themselves, so that most runs test them rather than public space.
    const ranges: [number, number][] = [
      [0x7f000000, 8],
      [0x0a000000, 8],
      [0xac100000, 12],
      [0xc0a80000, 16],
      [0x64400000, 10],
      [0xa9fe0000, 16],
    ];
    const nonPublic = fc
      .tuple(fc.constantFrom(...ranges), fc.nat(0xffffffff))
      .map(([[base, bits], n]) => (base | (n >>> bits)) >>> 0)
      .map((n) => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.'));
    fc.assert(
      fc.property(nonPublic, fc.nat(100), (v4, pick) => {
        const forms = embeddings(v4);
        const [, address] = forms[pick % forms.length] as [string, string];
        for (const spelled of spellings(address)) expect(classifyAddress(spelled)).not.toBe('public');
      }),
      { seed: 20261129, numRuns: 500 },
    );
  });
});

describe('a probe stays on the origin it targets: two loopback ports stand for the test and production listeners', () => {
  // One load balancer name, two listeners: the test listener (green) and the production listener (blue).
  const lb = 'my-alb-123.us-east-1.elb.test';
  const pinned = new Map([[lb, '127.0.0.1']]);
  let testListener: HttpTarget;
  let prodListener: HttpTarget;
  const urls = () => ({
    testListenerUrl: `http://${lb}:${testListener.port}`,
    prodListenerUrl: `http://${lb}:${prodListener.port}`,
  });

  beforeAll(async () => {
    [testListener, prodListener] = await Promise.all([startHttpTarget(), startHttpTarget()]);
  });

  afterAll(async () => {
    await Promise.all([testListener.close(), prodListener.close()]);
  });

  beforeEach(() => {
    testListener.hits.length = 0;
    prodListener.hits.length = 0;
    prodListener.respond((_req, res) => res.end('blue is fine'));
  });

  it('fails, naming both listeners, when the test listener redirects to the production listener', async () => {
    // The issue's load balancer: 301 Location: <production listener>/health.
    testListener.respond((_req, res) => {
      res.writeHead(301, { location: `http://${lb}:${prodListener.port}/health` });
      res.end();
    });

    const o = await measure(
      { checks: { subject: { type: 'http', url: '{{testListenerUrl}}/health', followRedirects: true } } },
      { pinned },
      urls(),
    );

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain(
      `refused: it leaves the test listener http://${lb}:${testListener.port} for the production listener http://${lb}:${prodListener.port}`,
    );
    expect(prodListener.hits).toEqual([]);
  });

  it('fails the same way whatever allow.hosts and allow.origins say', async () => {
    testListener.respond((_req, res) => {
      res.writeHead(302, { location: `http://${lb}:${prodListener.port}/health` });
      res.end();
    });

    const o = await measure(
      {
        allow: { hosts: ['*'], origins: [`http://${lb}:${prodListener.port}`] },
        checks: { subject: { type: 'http', url: '{{testListenerUrl}}/health', followRedirects: 3 } },
      },
      { pinned },
      urls(),
    );

    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/it leaves the test listener .* for the production listener/);
    expect(prodListener.hits).toEqual([]);
  });

  it('fails a redirect to another port of the same load balancer when only the test listener is known', async () => {
    testListener.respond((_req, res) => {
      res.writeHead(301, { location: `http://${lb}:${prodListener.port}/health` });
      res.end();
    });

    const o = await measure(
      { checks: { subject: { type: 'http', url: '{{testListenerUrl}}/health', followRedirects: true } } },
      { pinned },
      { testListenerUrl: urls().testListenerUrl },
    );

    expect(o.outcome).toBe('fail');
    expect(o.message).toContain(
      `it leaves the test listener http://${lb}:${testListener.port} for another listener of the deployment's load balancer http://${lb}:${prodListener.port}`,
    );
    expect(prodListener.hits).toEqual([]);
  });

  it('fails when the production listener redirects a probe of blue to the test listener', async () => {
    prodListener.respond((_req, res) => {
      res.writeHead(307, { location: `http://${lb}:${testListener.port}/health` });
      res.end();
    });
    testListener.respond((_req, res) => res.end('green'));

    const o = await measure(
      { checks: { subject: { type: 'http', url: '{{prodListenerUrl}}/health', followRedirects: true } } },
      { pinned },
      urls(),
    );

    expect(o.outcome).toBe('fail');
    expect(o.message).toMatch(/it leaves the production listener .* for the test listener/);
    expect(testListener.hits).toEqual([]);
  });

  it('fails when an allowed origin in between sends the probe on to the production listener', async () => {
    const elsewhere = await startHttpTarget((_req, res) => {
      res.writeHead(302, { location: `http://${lb}:${prodListener.port}/health` });
      res.end();
    });
    try {
      testListener.respond((_req, res) => {
        res.writeHead(302, { location: `http://login.test:${elsewhere.port}/sso` });
        res.end();
      });
      const o = await measure(
        {
          allow: { origins: [`http://login.test:${elsewhere.port}`, `http://${lb}:${prodListener.port}`] },
          checks: { subject: { type: 'http', url: '{{testListenerUrl}}/health', followRedirects: true } },
        },
        { pinned: new Map([...pinned, ['login.test', '127.0.0.1']]) },
        urls(),
      );

      expect(o.outcome).toBe('fail');
      expect(o.message).toMatch(/it leaves the test listener .* for the production listener/);
      expect(elsewhere.hits).toEqual(['/sso']);
      expect(prodListener.hits).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('still follows a redirect within the test listener itself', async () => {
    testListener.respond((req, res) => {
      if (req.url === '/health') {
        res.writeHead(302, { location: '/healthz' });
        res.end();
      } else res.end('green ok');
    });

    const o = await measure(
      { checks: { subject: { type: 'http', url: '{{testListenerUrl}}/health', followRedirects: true } } },
      { pinned },
      urls(),
    );

    expect(o.outcome).toBe('pass');
    expect(testListener.hits).toEqual(['/health', '/healthz']);
  });

  it('refuses the issue’s exact hop: test listener on :8080 to https on 443 of the same load balancer', () => {
    const alb = 'internal-app-123.us-east-1.elb.amazonaws.com';
    const listeners = deploymentListeners({ testListenerUrl: `http://${alb}:8080`, prodListenerUrl: `https://${alb}` });
    const guard = probeGuard({
      egress: { allow: { ...defaultAllow, hosts: ['*'], origins: [`https://${alb}`] }, ...listeners },
      ownHost: alb,
    });
    const target = new URL(`http://${alb}:8080/health`);

    expect(guard.refuseHop(target, target, new URL(`https://${alb}/health`))).toBe(
      `it leaves the test listener http://${alb}:8080 for the production listener https://${alb}`,
    );
  });

  it('treats another scheme or port of the same host as another origin (RFC 6454), followed only when allow.origins lists it', async () => {
    const guard = (origins?: string[]) =>
      probeGuard({
        egress: { allow: { ...defaultAllow, ...(origins ? { origins } : {}) }, deploymentHosts: new Set() },
        ownHost: 'green.example',
      });
    const from = new URL('http://green.example/health');
    const hop = (g: ReturnType<typeof guard>, to: string) => g.refuseHop(from, from, new URL(to));

    expect(hop(guard(), 'http://GREEN.example:80/other')).toBeUndefined();
    expect(hop(guard(), 'https://green.example/health')).toBe(
      'origin https://green.example is not the origin the check targets (http://green.example) nor in allow.origins',
    );
    expect(hop(guard(), 'http://green.example:8080/')).toMatch(/origin http:\/\/green\.example:8080 is not the origin/);
    expect(hop(guard(['https://green.example:443']), 'https://green.example/health')).toBeUndefined();
    expect(hop(guard(['https://green.example:443']), 'https://green.example:8443/health')).toMatch(/not the origin/);
    expect(hop(guard(['https://*.example:443']), 'https://auth.example/x')).toBeUndefined();
  });
});

describe('allow.origins in the plan', () => {
  const check = { type: 'http', url: 'https://api.example.com/health' };
  const problems = (allow: Record<string, unknown>): string[] => {
    try {
      parsePlan({ version: 1, allow, hooks: { '*': ['c'] }, checks: { c: check } });
      return [];
    } catch (error) {
      return [...(error as PlanError).issues];
    }
  };

  it('is normalized to scheme://host:port', () => {
    const plan = parsePlan({
      version: 1,
      allow: { origins: ['https://Auth.Example.com', 'http://*.example.com:8080/', 'https://[2001:db8::1]:8443'] },
      hooks: { '*': ['c'] },
      checks: { c: check },
    });
    expect(plan.allow?.origins).toEqual([
      'https://auth.example.com:443',
      'http://*.example.com:8080',
      'https://2001:db8::1:8443',
    ]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a bare host',
      { origins: ['auth.example.com'] },
      'allow.origins[0]: expected an origin such as https://api.example.com',
    ],
    ['a path', { origins: ['https://auth.example.com/login'] }, 'allow.origins[0]: expected an origin'],
    ['a query', { origins: ['https://auth.example.com?x=1'] }, 'allow.origins[0]: expected an origin'],
    ['credentials', { origins: ['https://user:pw@auth.example.com'] }, 'allow.origins[0]: expected an origin'],
    ['any host', { origins: ['https://*'] }, 'allow.origins[0]: a redirect may go to listed origins only'],
    [
      'a port out of range',
      { origins: ['https://auth.example.com:70000'] },
      'allow.origins[0]: port 70000 is not 1-65535',
    ],
    ['another scheme', { origins: ['ftp://auth.example.com'] }, 'allow.origins[0]: scheme ftp cannot be probed'],
    [
      'a scheme allow.schemes leaves out',
      { schemes: ['https'], origins: ['http://auth.example.com'] },
      'allow.origins[0]: scheme http is not in allow.schemes',
    ],
    [
      'a host allow.hosts leaves out',
      { hosts: ['api.example.com'], origins: ['https://auth.example.com'] },
      'allow.origins[0]: host auth.example.com is not in allow.hosts',
    ],
    ['not a string', { origins: [42] }, 'allow.origins[0]: expected a string'],
  ])('refuses %s, naming the entry', (_name, allow, issue) => {
    expect(problems(allow)).toEqual([expect.stringContaining(issue)]);
  });
});
