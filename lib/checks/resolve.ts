import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/** The `lookup` option of node:http requests. */
export type Lookup = (
  hostname: string,
  options: { all?: boolean | undefined; family?: number | string | undefined },
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/**
 * Parses GREENLIGHT_RESOLVE, `host=address` pairs separated by commas (like curl's --resolve):
 * how the local rehearsal and `npm run invoke` send a load balancer's DNS name to a server on loopback.
 * The probes' guard answers these names itself (lib/checks/egress.ts).
 */
export function parseResolveOverrides(text: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of (text ?? '').split(',')) {
    const [host, address] = pair.split('=').map((s) => s.trim());
    if (host && address && isIP(address)) map.set(host.toLowerCase(), address);
  }
  return map;
}
