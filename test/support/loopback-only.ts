import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import net from 'node:net';

export interface Tripwire {
  /** Every connection that would have left loopback, refused before it was made: `host` or `host=address`. */
  readonly blocked: string[];
  restore(): void;
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;
type LookupFn = (hostname: string, options: Record<string, unknown>, callback: LookupCallback) => void;

const loopback = (address: string): boolean =>
  /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);

/**
 * A safety net for tests of refused addresses: while installed, no TCP connection of this process can
 * leave loopback, whatever the code under test does. A connection to another address is destroyed
 * before it is made and recorded, so a test both stays on loopback and sees that it would have left it.
 */
export function loopbackOnly(): Tripwire {
  const original = net.Socket.prototype.connect;
  const blocked: string[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: connect's overloads take several argument shapes.
  net.Socket.prototype.connect = function (this: net.Socket, ...args: any[]): net.Socket {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as Record<string, unknown> | undefined;
    if (options !== null && typeof options === 'object' && !options.path) {
      const host = typeof options.host === 'string' ? options.host : 'localhost';
      if (net.isIP(host) !== 0 && !loopback(host)) {
        blocked.push(host);
        process.nextTick(() =>
          this.destroy(new Error(`tripwire: connection to ${host} refused (tests stay on loopback)`)),
        );
        return this;
      }
      const inner = (typeof options.lookup === 'function' ? options.lookup : dnsLookup) as LookupFn;
      options.lookup = ((hostname: string, o: Record<string, unknown>, callback: LookupCallback) => {
        inner(hostname, o, (error, address, family) => {
          if (error) return callback(error, address, family);
          const list = Array.isArray(address) ? address : [{ address, family: family ?? 0 }];
          const away = list.find((a) => !loopback(a.address));
          if (away) {
            blocked.push(`${hostname}=${away.address}`);
            return callback(
              new Error(`tripwire: ${hostname} resolved to ${away.address} (tests stay on loopback)`),
              [],
            );
          }
          return callback(null, address, family);
        });
      }) as LookupFn;
    }
    return original.apply(this, args as never);
  } as typeof net.Socket.prototype.connect;
  return {
    blocked,
    restore() {
      net.Socket.prototype.connect = original;
    },
  };
}
