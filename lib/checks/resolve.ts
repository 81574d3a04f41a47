import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { SettingError } from '../runtime/settings.ts';

/** The `lookup` option of node:http requests. */
export type Lookup = (
  hostname: string,
  options: { all?: boolean | undefined; family?: number | string | undefined },
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** The variable holding `host=address` pins (like curl's --resolve). */
export const resolveVariable = 'GREENLIGHT_RESOLVE';

const hostName = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$/i;

/**
 * Parses GREENLIGHT_RESOLVE, `host=address` pairs separated by commas (like curl's --resolve):
 * how the local rehearsal and `npm run invoke` send a load balancer's DNS name to a server on loopback.
 * The probes' guard answers these names itself (lib/checks/egress.ts). Unset or blank: no pins.
 * Throws a `SettingError` naming the variable for an entry that is not `host=address` with a host name
 * and an IP address, or a host pinned twice: a pin that silently does not apply would send the probe
 * to whatever DNS says instead.
 */
export function parseResolveOverrides(text: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (text === undefined || text.trim() === '') return map;
  for (const pair of text.split(',')) {
    const parts = pair.split('=').map((s) => s.trim());
    const [host, address] = parts;
    const bad = (why: string): SettingError => {
      const shown = pair.length > 60 ? `${pair.slice(0, 60)}…` : pair;
      return new SettingError(
        resolveVariable,
        `${resolveVariable}: expected host=address pairs separated by commas; ${JSON.stringify(shown)} ${why}`,
      );
    };
    if (parts.length !== 2 || !host || !address) throw bad('is not host=address');
    if (!hostName.test(host)) throw bad('does not name a host');
    if (isIP(address) === 0) throw bad('does not give an IP address');
    const key = host.toLowerCase().replace(/\.$/, '');
    if (map.has(key) && map.get(key) !== address) throw bad('pins a host already pinned to another address');
    map.set(key, address);
  }
  return map;
}
