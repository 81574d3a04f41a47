import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { clip, echo, type Fields, join } from '../spec/fields.ts';
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
  /**
   * Origins a redirect may carry a probe to besides the one it targets, normalized to
   * `scheme://host:port` (the host may be `*.domain`). Absent: a probe never leaves its own origin
   * (RFC 6454 origin: scheme, host and port). A hop from one of the deployment's listeners to another
   * is refused whatever this lists.
   */
  readonly origins?: readonly string[];
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
  /**
   * The deployment's listeners by origin key (see `originKey`), to their name (`test listener`,
   * `production listener`): a redirect from one to another is always refused, naming both.
   */
  readonly listeners?: ReadonlyMap<string, string>;
}

/** A probe that must not be sent; the message names the host, the address and the rule. */
export class EgressRefusedError extends Error {
  readonly code = 'EGRESS_REFUSED';

  constructor(message: string) {
    super(message);
    this.name = 'EgressRefusedError';
  }
}

const allowFields = ['hosts', 'schemes', 'addresses', 'origins'] as const;
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
      return f.problem(at, `expected a host name, *.domain, an IP address or *, got ${echo(host)}`);
    }
    return normalizeHost(host);
  });
  const schemes = list('schemes', (item, at) => f.oneOf(item, at, probeSchemes));
  const addresses = list('addresses', (item, at) => f.oneOf(item, at, addressRanges));
  if (schemes !== undefined && schemes.length === 0) f.problem(join(path, 'schemes'), 'must list http, https or both');
  const origins = list('origins', (item, at) => {
    const text = f.string(item, at, { max: 300 });
    if (text === undefined) return undefined;
    const origin = parseOriginPattern(text);
    if (typeof origin === 'string') return f.problem(at, origin);
    if (!(schemes ?? defaultAllow.schemes).includes(origin.scheme)) {
      return f.problem(at, `scheme ${clip(origin.scheme)} is not in allow.schemes`);
    }
    if (hosts !== undefined && !hosts.some((pattern) => patternCovers(pattern, origin.host))) {
      return f.problem(at, `host ${clip(origin.host)} is not in allow.hosts, so no probe could reach it`);
    }
    return `${origin.scheme}://${origin.host}:${origin.port}`;
  });
  if (f.issues.length > before) return undefined;
  return {
    ...(hosts === undefined ? {} : { hosts }),
    schemes: schemes ?? defaultAllow.schemes,
    addresses: addresses ?? defaultAllow.addresses,
    ...(origins === undefined ? {} : { origins }),
  };
}

const defaultPorts: Readonly<Record<ProbeScheme, number>> = { http: 80, https: 443 };

/**
 * `https://api.example.com`, `http://*.example.com:8080`, `https://[2001:db8::1]:8443` to its parts, or
 * why it is not an origin. Strict: a scheme, a host (or `*.domain`), an optional port, nothing else.
 */
function parseOriginPattern(text: string): { scheme: ProbeScheme; host: string; port: number } | string {
  const expected = `expected an origin such as https://api.example.com or http://*.example.com:8080, got ${echo(text)}`;
  const m = /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-f:.]+\]|[^/:?#@[\]]+)(?::(\d{1,5}))?\/?$/i.exec(text);
  if (!m) return expected;
  const scheme = (m[1] as string).toLowerCase();
  if (!(probeSchemes as readonly string[]).includes(scheme))
    return `scheme ${clip(scheme)} cannot be probed (http or https)`;
  const rawHost = m[2] as string;
  if (rawHost === '*' || (rawHost.startsWith('*') && !rawHost.startsWith('*.'))) {
    return 'a redirect may go to listed origins only: name the host or *.domain, not *';
  }
  const valid = rawHost.startsWith('[') ? isIP(bare(rawHost)) === 6 : hostPattern.test(rawHost);
  if (!valid) return expected;
  const port = m[3] === undefined ? defaultPorts[scheme as ProbeScheme] : Number(m[3]);
  if (port < 1 || port > 65535) return `port ${m[3]} is not 1-65535`;
  return { scheme: scheme as ProbeScheme, host: normalizeHost(rawHost), port };
}

/** Whether the host pattern `p` (allow.hosts) admits every host the pattern `q` does. */
function patternCovers(p: string, q: string): boolean {
  if (p === '*') return true;
  if (!q.startsWith('*.')) return hostMatches(p, q);
  return p.startsWith('*.') && (q === p || q.endsWith(p.slice(1)));
}

/**
 * The origin of a URL as one comparable string, `scheme://host:port` with the default port spelled
 * out and the host normalized (case, trailing dot, IPv6 brackets), so that `https://LB.example.` and
 * `https://lb.example:443` are the same origin (RFC 6454).
 */
export function originKey(url: URL): string {
  const scheme = url.protocol.replace(/:$/, '');
  const port = url.port === '' ? (defaultPorts[scheme as ProbeScheme] ?? 0) : Number(url.port);
  return `${scheme}://${normalizeHost(url.hostname)}:${port}`;
}

/** `scheme://host:port` (an origin key or a normalized allow.origins entry) to its parts. */
function splitOrigin(key: string): { scheme: string; host: string; port: string } {
  const m = /^(\w+):\/\/(.*):(\d+)$/.exec(key);
  return m
    ? { scheme: m[1] as string, host: m[2] as string, port: m[3] as string }
    : { scheme: '', host: key, port: '' };
}

/** An origin key for messages: the default port left out, IPv6 hosts in brackets. */
function showOrigin(key: string): string {
  const { scheme, host, port } = splitOrigin(key);
  const h = host.includes(':') ? `[${host}]` : host;
  return Number(port) === defaultPorts[scheme as ProbeScheme] ? `${scheme}://${h}` : `${scheme}://${h}:${port}`;
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

/**
 * The deployment's listeners for `Egress`: their hosts, and their origins by name. Takes the context's
 * `testListenerUrl` and `prodListenerUrl` (either may be absent: only what the plan uses is resolved).
 */
export function deploymentListeners(context: {
  readonly testListenerUrl?: string | undefined;
  readonly prodListenerUrl?: string | undefined;
}): Pick<Egress, 'deploymentHosts' | 'listeners'> {
  const listeners = new Map<string, string>();
  const named: [string, string | undefined][] = [
    ['test listener', context.testListenerUrl],
    ['production listener', context.prodListenerUrl],
  ];
  for (const [name, url] of named) {
    if (!url) continue;
    try {
      const key = originKey(new URL(url));
      // Test and production on one origin (rules told apart by header) cannot be told apart by origin.
      listeners.set(key, listeners.has(key) ? 'test and production listener' : name);
    } catch {
      // Not a URL: the check that uses it says so.
    }
  }
  return { deploymentHosts: listenerHosts([context.testListenerUrl, context.prodListenerUrl]), listeners };
}

export interface ProbeGuard {
  /** Why a request to `url` must not be sent (scheme, host, a literal address), or undefined when it may. */
  refuse(url: URL): string | undefined;
  /**
   * Why a redirect from `from` to `to` must not be followed by a probe that targeted `target`, or
   * undefined when it may: the hop is refused when it leaves one of the deployment's listeners for
   * another (naming both), when it goes to another origin than `target`'s that allow.origins does not
   * list, or when `refuse(to)` refuses it.
   */
  refuseHop(target: URL, from: URL, to: URL): string | undefined;
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

  const listeners = egress.listeners ?? new Map<string, string>();
  const originAllowed = (key: string): boolean => {
    const o = splitOrigin(key);
    return (allow.origins ?? []).some((pattern) => {
      const p = splitOrigin(pattern);
      return p.scheme === o.scheme && p.port === o.port && hostMatches(p.host, o.host);
    });
  };

  const refuse = (url: URL, hop = false): string | undefined => {
    const scheme = url.protocol.replace(/:$/, '');
    if (!(allow.schemes as readonly string[]).includes(scheme)) {
      return `scheme ${scheme} is not in allow.schemes (${allow.schemes.join(', ')})`;
    }
    const host = normalizeHost(url.hostname);
    if (!deploymentHosts.has(host)) {
      if (allow.hosts === undefined) {
        // An origin the plan lets a redirect reach is a host it named, like allow.hosts would.
        if (host !== ownHost && !(hop && originAllowed(originKey(url)))) {
          return `host ${host} is not the check's own host (${ownHost}) nor a deployment listener; list ${hop ? 'its origin in allow.origins' : 'it in allow.hosts'}`;
        }
      } else if (!allow.hosts.some((pattern) => hostMatches(pattern, host))) {
        return `host ${host} is not in allow.hosts`;
      }
    }
    if (isIP(host) !== 0) return refuseAddress(host, host, true);
    return undefined;
  };

  const refuseHop = (target: URL, from: URL, to: URL): string | undefined => {
    const toKey = originKey(to);
    const fromKey = originKey(from);
    if (toKey !== fromKey) {
      // Bound to a listener: the one it targets, else the one this hop leaves.
      const boundKey = listeners.has(originKey(target)) ? originKey(target) : fromKey;
      const bound = listeners.get(boundKey);
      if (bound !== undefined && toKey !== boundKey) {
        const other = listeners.get(toKey);
        // Another port or scheme of a deployment load balancer is another of its listeners, known or not.
        if (other !== undefined || deploymentHosts.has(normalizeHost(to.hostname))) {
          const what = other ?? "another listener of the deployment's load balancer";
          return `it leaves the ${bound} ${showOrigin(boundKey)} for ${other ? 'the ' : ''}${what} ${showOrigin(toKey)}`;
        }
      }
    }
    const refused = refuse(to, true);
    if (refused) return refused;
    const targetKey = originKey(target);
    if (toKey !== targetKey && !originAllowed(toKey)) {
      return `origin ${showOrigin(toKey)} is not the origin the check targets (${showOrigin(targetKey)}) nor in allow.origins`;
    }
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

  return { refuse: (url) => refuse(url), refuseHop, lookup };
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
 * The range an IP address belongs to. An IPv6 address that carries an IPv4 address is judged by the
 * IPv4 address it reaches, so that no spelling of a forbidden address reads as public:
 * IPv4-mapped `::ffff:a.b.c.d` and IPv4-compatible `::a.b.c.d` (RFC 4291), IPv4-translated
 * `::ffff:0:a.b.c.d` (RFC 6145 / 7915), the NAT64 well-known prefix `64:ff9b::/96` (RFC 6052) and the
 * local-use prefix `64:ff9b:1::/48` (RFC 8215, any RFC 6052 prefix length within it), 6to4 `2002::/16`
 * (RFC 3056), Teredo `2001::/32` (RFC 4380, the obfuscated client address) and ISATAP interface ids
 * (RFC 5214). Dotted or hex, upper or lower case, compressed or not, with or without a zone id.
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

/**
 * When readings of one address differ, the one a plan is least likely to allow wins. `reserved` comes
 * last of the refused ranges: such a reading (multicast, 240/4) reaches nothing, so it is the padding of
 * another layout rather than the destination.
 */
const severity: readonly AddressClass[] = ['metadata', 'link-local', 'loopback', 'private', 'reserved', 'public'];

function strictest(classes: readonly AddressClass[]): AddressClass {
  return severity.find((c) => classes.includes(c)) ?? 'public';
}

function classifyV6(g: number[]): AddressClass {
  const at = (i: number): number => g[i] ?? 0;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (metadataV6.has(g.map((x) => x.toString(16)).join(':'))) return 'metadata';
  if (zeros(0, 8)) return 'reserved';
  if (zeros(0, 7) && at(7) === 1) return 'loopback';
  const carried = embeddedV4(g);
  if (carried.length > 0) return strictest(carried.map(classifyV4));
  const top = at(0);
  if ((top & 0xff00) === 0xff00) return 'reserved'; // multicast
  if ((top & 0xffc0) === 0xfe80) return 'link-local';
  if ((top & 0xfe00) === 0xfc00 || (top & 0xffc0) === 0xfec0) return 'private'; // unique local, old site-local
  // ISATAP (RFC 5214): a global prefix with interface id [02]00:5efe:a.b.c.d reaches a.b.c.d over IPv4.
  if ((at(4) & 0xfdff) === 0 && at(5) === 0x5efe) {
    const isatap = classifyV4(v4From(g, 96));
    if (isatap !== 'public') return isatap;
  }
  return 'public';
}

/** The 32 bits of `g` from bit `bit` on (big-endian), as an IPv4 address number. */
function v4From(g: readonly number[], bit: number): number {
  let n = 0;
  for (let i = 0; i < 32; i++) {
    const b = bit + i;
    n = (n << 1) | (((g[b >>> 4] ?? 0) >>> (15 - (b & 15))) & 1);
  }
  return n >>> 0;
}

/** Whether bits [from, to) of `g` are all zero. */
function zeroBits(g: readonly number[], from: number, to: number): boolean {
  for (let b = from; b < to; b++) if ((((g[b >>> 4] ?? 0) >>> (15 - (b & 15))) & 1) !== 0) return false;
  return true;
}

/**
 * The IPv4 addresses an IPv6 address carries by a translation or tunnelling scheme, every plausible
 * reading of it; empty when it carries none. RFC 6052 section 2.2 places the IPv4 address after a
 * prefix of 32, 40, 48, 56, 64 or 96 bits, skipping bits 64-71 (which must be zero), with a zero suffix.
 */
function embeddedV4(g: readonly number[]): number[] {
  const at = (i: number): number => g[i] ?? 0;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  // ::a.b.c.d (compatible), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated, RFC 6145 / 7915)
  if (zeros(0, 5) && (at(5) === 0xffff || at(5) === 0)) return [v4From(g, 96)];
  if (zeros(0, 4) && at(4) === 0xffff && at(5) === 0) return [v4From(g, 96)];
  // 6to4: 2002:AABB:CCDD::/48 reaches a.b.c.d
  if (at(0) === 0x2002) return [v4From(g, 16)];
  // Teredo: the client's address, every bit inverted, in the last 32 bits
  if (at(0) === 0x2001 && at(1) === 0) return [~v4From(g, 96) >>> 0];
  if (at(0) !== 0x64 || at(1) !== 0xff9b) return [];
  // 64:ff9b::/96, the well-known prefix, is only ever used at /96 (RFC 6052 section 2.1).
  if (zeros(2, 6)) return [v4From(g, 96)];
  // 64:ff9b:1::/48 (RFC 8215) leaves the prefix length to the operator; the rest of 64:ff9b::/32 is not
  // assigned. Each length whose layout the address fits is a reading.
  const lengths = at(2) === 1 ? [48, 56, 64, 96] : [32, 40, 48, 56, 64, 96];
  const readings: number[] = [];
  for (const length of lengths) {
    if (length === 96) {
      readings.push(v4From(g, 96));
      continue;
    }
    // The 32 bits start at `length` and jump over bits 64-71; the suffix after them is zero.
    if (!zeroBits(g, 64, 72)) continue;
    const end = length + 32 + 8;
    if (!zeroBits(g, end, 128)) continue;
    const before = Math.max(0, Math.min(32, 64 - length));
    const high = before === 0 ? 0 : v4From(g, length) >>> (32 - before);
    const low = before === 32 ? 0 : (v4From(g, 72) >>> before) & (2 ** (32 - before) - 1);
    readings.push(before === 32 ? high >>> 0 : (high * 2 ** (32 - before) + low) >>> 0);
  }
  // A reading in 0.0.0.0/8 ("this network") names no destination: it is the zero padding of another
  // layout, unless no other reading is left.
  const real = readings.filter((n) => n >>> 24 !== 0);
  return real.length > 0 ? real : readings;
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
