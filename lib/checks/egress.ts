import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { type Fields, join } from '../plan/fields.ts';
import type { Lookup } from './resolve.ts';

/**
 * Where probes may go. A probe is refused (never sent) when its scheme, its host or any address its
 * host resolves to is not allowed; the check is made on the check's own URL, on every redirect hop,
 * and after DNS resolution, in the lookup the connection itself uses (so a name that changes its
 * answer between a check and the connection cannot slip through).
 */

/** Address ranges a plan may allow besides public addresses. */
export const addressRanges = ['loopback', 'private', 'link-local', 'metadata'] as const;
export type AddressRange = (typeof addressRanges)[number];

/** `reserved` (0.0.0.0/8, ::, multicast, 240/4) is never probed, whatever the plan allows. */
export type AddressClass = 'public' | AddressRange | 'reserved';

export const probeSchemes = ['http', 'https'] as const;
export type ProbeScheme = (typeof probeSchemes)[number];

/** The plan's `allow` block. */
export interface AllowPolicy {
  /**
   * Host patterns (`api.example.com`, `*.example.com`, `*`) every hop must match. Absent: a probe may go
   * to the host its own URL names and nowhere else. The deployment's listener hosts are always allowed.
   */
  readonly hosts?: readonly string[];
  readonly schemes: readonly ProbeScheme[];
  readonly addresses: readonly AddressRange[];
}

export const defaultAllow: AllowPolicy = { schemes: ['http', 'https'], addresses: [] };

/** What the http check needs to guard one check's probes in one invocation. */
export interface Egress {
  readonly allow: AllowPolicy;
  /**
   * Hosts of the deployment's own listeners (`{{testListenerUrl}}`, `{{prodListenerUrl}}`, from ELBv2):
   * always allowed, and allowed to resolve to private addresses, since internal load balancers do.
   */
  readonly deploymentHosts: ReadonlySet<string>;
}

/** A probe that must not be sent; the message names the host, the address and the rule. */
export class EgressRefusedError extends Error {
  readonly code = 'EGRESS_REFUSED';

  constructor(message: string) {
    super(message);
    this.name = 'EgressRefusedError';
  }
}

const allowFields = ['hosts', 'schemes', 'addresses'] as const;
const hostPattern = /^(?:\*|(?:\*\.)?[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?)$/i;

/** Reads the plan's `allow` block; problems name the field (`allow.addresses[1]: ...`). */
export function readAllow(value: unknown, path: string, f: Fields): AllowPolicy | undefined {
  if (value === undefined) return defaultAllow;
  const raw = f.object(value, path, allowFields);
  if (!raw) return undefined;
  const before = f.issues.length;
  const list = <T extends string>(key: string, read: (item: unknown, at: string) => T | undefined): T[] | undefined => {
    if (raw[key] === undefined) return undefined;
    const items = f.array(raw[key], join(path, key), 50);
    if (!items) return undefined;
    const out: T[] = [];
    items.forEach((item, i) => {
      const v = read(item, join(join(path, key), i));
      if (v !== undefined && !out.includes(v)) out.push(v);
    });
    return out;
  };
  const hosts = list('hosts', (item, at) => {
    const host = f.string(item, at, { max: 253 });
    if (host === undefined) return undefined;
    const valid = host.includes(':') ? isIP(bare(host)) === 6 : hostPattern.test(host);
    if (!valid) {
      return f.problem(at, `expected a host name, *.domain, an IP address or *, got ${JSON.stringify(host)}`);
    }
    return normalizeHost(host);
  });
  const schemes = list('schemes', (item, at) => f.oneOf(item, at, probeSchemes));
  const addresses = list('addresses', (item, at) => f.oneOf(item, at, addressRanges));
  if (schemes !== undefined && schemes.length === 0) f.problem(join(path, 'schemes'), 'must list http, https or both');
  if (f.issues.length > before) return undefined;
  return {
    ...(hosts === undefined ? {} : { hosts }),
    schemes: schemes ?? defaultAllow.schemes,
    addresses: addresses ?? defaultAllow.addresses,
  };
}

/** The hosts of the deployment's listener URLs, for `Egress.deploymentHosts`. */
export function listenerHosts(urls: readonly (string | undefined)[]): Set<string> {
  const hosts = new Set<string>();
  for (const url of urls) {
    if (!url) continue;
    try {
      hosts.add(normalizeHost(new URL(url).hostname));
    } catch {
      // Not a URL: the check that uses it says so.
    }
  }
  return hosts;
}

export interface ProbeGuard {
  /** Why a request to `url` must not be sent (scheme, host, a literal address), or undefined when it may. */
  refuse(url: URL): string | undefined;
  /** The `lookup` the request connects with: pinned names first, then DNS, every address checked. */
  readonly lookup: Lookup;
}

export interface ProbeGuardOptions {
  readonly egress?: Egress | undefined;
  /** The host of the check's own URL: allowed when the plan lists no hosts. */
  readonly ownHost: string;
  /**
   * Names sent to an address the function's operator chose (GREENLIGHT_RESOLVE, like curl --resolve):
   * configuration, not DNS or the plan, so the address rules do not apply to them.
   */
  readonly pinned?: ReadonlyMap<string, string> | undefined;
  /** How names are resolved; DNS when absent (tests pass a fake). */
  readonly lookup?: Lookup | undefined;
}

/** The guard of one check's probes. */
export function probeGuard(o: ProbeGuardOptions): ProbeGuard {
  const egress = o.egress ?? { allow: defaultAllow, deploymentHosts: new Set<string>() };
  const { allow, deploymentHosts } = egress;
  const ownHost = normalizeHost(o.ownHost);
  const pinned = o.pinned ?? new Map<string, string>();
  const base: Lookup = o.lookup ?? (dnsLookup as unknown as Lookup);

  const refuseAddress = (host: string, address: string, literal: boolean): string | undefined => {
    const c = classifyAddress(address);
    if (c === 'public') return undefined;
    const what = literal ? `${address} is` : `${host} resolves to ${address},`;
    if (c === 'reserved') return `${what} a reserved address, never probed`;
    if (allow.addresses.includes(c)) return undefined;
    if (c === 'private' && deploymentHosts.has(host)) return undefined;
    return `${what} a ${c} address, and allow.addresses does not list ${c}`;
  };

  const refuse = (url: URL): string | undefined => {
    const scheme = url.protocol.replace(/:$/, '');
    if (!(allow.schemes as readonly string[]).includes(scheme)) {
      return `scheme ${scheme} is not in allow.schemes (${allow.schemes.join(', ')})`;
    }
    const host = normalizeHost(url.hostname);
    if (!deploymentHosts.has(host)) {
      if (allow.hosts === undefined) {
        if (host !== ownHost) {
          return `host ${host} is not the check's own host (${ownHost}) nor a deployment listener; list it in allow.hosts`;
        }
      } else if (!allow.hosts.some((pattern) => hostMatches(pattern, host))) {
        return `host ${host} is not in allow.hosts`;
      }
    }
    if (isIP(host) !== 0) return refuseAddress(host, host, true);
    return undefined;
  };

  const lookup: Lookup = (hostname, options, callback) => {
    const host = normalizeHost(hostname);
    const fixed = pinned.get(host);
    if (fixed !== undefined) {
      const family = isIP(fixed);
      if (options.all) callback(null, [{ address: fixed, family }]);
      else callback(null, fixed, family);
      return;
    }
    base(hostname, { ...options, all: true }, (error, found) => {
      if (error) {
        callback(error, options.all ? [] : '');
        return;
      }
      const addresses: LookupAddress[] = Array.isArray(found)
        ? found
        : [{ address: String(found), family: isIP(String(found)) }];
      if (addresses.length === 0) {
        const none: NodeJS.ErrnoException = new Error(`no address for ${host}`);
        none.code = 'ENOTFOUND';
        callback(none, options.all ? [] : '');
        return;
      }
      // Every address: a name that answers one public and one metadata address is refused outright.
      for (const a of addresses) {
        const why = refuseAddress(host, a.address, false);
        if (why) {
          callback(new EgressRefusedError(why), options.all ? [] : '');
          return;
        }
      }
      const first = addresses[0] as LookupAddress;
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };

  return { refuse, lookup };
}

/** `*` matches any host, `*.example.com` any name below example.com (not example.com itself). */
export function hostMatches(pattern: string, host: string): boolean {
  const p = normalizeHost(pattern);
  const h = normalizeHost(host);
  if (p === '*') return true;
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return p === h;
}

function normalizeHost(host: string): string {
  return bare(host).toLowerCase().replace(/\.$/, '');
}

/** `[::1]` (a URL's hostname) to `::1`; IPv6 zone ids dropped. */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
}

/**
 * The range an IP address belongs to. IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16) IPv6 addresses are judged by the IPv4 address they carry.
 */
export function classifyAddress(address: string): AddressClass {
  const text = bare(address);
  const family = isIP(text);
  if (family === 4) return classifyV4(parseV4(text));
  if (family === 6) return classifyV6(parseV6(text));
  // Not an address at all: nothing to connect to, so nothing to allow.
  return 'reserved';
}

const metadataV4 = new Set([
  '169.254.169.254', // EC2 instance metadata (IMDS)
  '169.254.170.2', // ECS task metadata and credentials
  '169.254.170.23', // EKS Pod Identity agent
]);

function classifyV4(n: number): AddressClass {
  const in4 = (base: string, bits: number): boolean => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return (n & mask) >>> 0 === (parseV4(base) & mask) >>> 0;
  };
  if (metadataV4.has(formatV4(n))) return 'metadata';
  if (in4('0.0.0.0', 8) || in4('224.0.0.0', 4) || in4('240.0.0.0', 4)) return 'reserved';
  if (in4('127.0.0.0', 8)) return 'loopback';
  if (in4('169.254.0.0', 16)) return 'link-local';
  if (in4('10.0.0.0', 8) || in4('172.16.0.0', 12) || in4('192.168.0.0', 16) || in4('100.64.0.0', 10)) {
    return 'private';
  }
  return 'public';
}

const metadataV6 = new Set([
  'fd00:ec2:0:0:0:0:0:254', // EC2 instance metadata over IPv6
  'fd00:ec2:0:0:0:0:0:23', // EKS Pod Identity agent over IPv6
]);

function classifyV6(g: number[]): AddressClass {
  const at = (i: number): number => g[i] ?? 0;
  const v4At = (i: number): number => ((at(i) << 16) | at(i + 1)) >>> 0;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (metadataV6.has(g.map((x) => x.toString(16)).join(':'))) return 'metadata';
  if (zeros(0, 8)) return 'reserved';
  if (zeros(0, 7) && at(7) === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
  if (zeros(0, 5) && (at(5) === 0xffff || at(5) === 0)) return classifyV4(v4At(6));
  // 64:ff9b::a.b.c.d, NAT64: reaches the IPv4 address it carries
  if (at(0) === 0x64 && at(1) === 0xff9b && zeros(2, 6)) return classifyV4(v4At(6));
  // 2002:AABB:CCDD::/48, 6to4: reaches a.b.c.d
  if (at(0) === 0x2002) {
    const carried = classifyV4(v4At(1));
    if (carried !== 'public') return carried;
  }
  const top = at(0);
  if ((top & 0xff00) === 0xff00) return 'reserved'; // multicast
  if ((top & 0xffc0) === 0xfe80) return 'link-local';
  if ((top & 0xfe00) === 0xfc00 || (top & 0xffc0) === 0xfec0) return 'private'; // unique local, old site-local
  return 'public';
}

function parseV4(text: string): number {
  return text.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function formatV4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

/** Eight 16-bit groups; `isIP` has already said the text is a valid IPv6 address. */
function parseV6(text: string): number[] {
  let t = text.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (dotted) {
    const n = parseV4(dotted[1] as string);
    t = `${t.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = t.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(fill).fill('0'), ...right].map((x) => Number.parseInt(x, 16));
}
