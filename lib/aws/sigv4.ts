import type { SigV4Port, SigV4Request } from '../checks/prometheus.ts';

/**
 * Signs requests with AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)
 * using the SDK's own signer and the function's credentials (the default provider chain: on Lambda,
 * the execution role's environment credentials). The SDK pieces are loaded on first use, so a
 * function that never signs does not pay for them at cold start.
 */
export function sigv4Adapter(): SigV4Port {
  let made:
    | Promise<(request: SigV4Request, region: string, service: string) => Promise<Record<string, string>>>
    | undefined;
  const make = async () => {
    const [{ SignatureV4 }, { Hash }, { defaultProvider }] = await Promise.all([
      import('@smithy/signature-v4'),
      import('@smithy/hash-node'),
      import('@aws-sdk/credential-provider-node'),
    ]);
    // Memoized by the SDK: credentials are fetched once and refreshed before they expire.
    const credentials = defaultProvider();
    return async (request: SigV4Request, region: string, service: string): Promise<Record<string, string>> => {
      const signer = new SignatureV4({
        credentials,
        region,
        service,
        sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: true,
      });
      const url = request.url;
      const query: Record<string, string | string[]> = {};
      for (const [k, v] of url.searchParams) {
        const prior = query[k];
        query[k] = prior === undefined ? v : Array.isArray(prior) ? [...prior, v] : [prior, v];
      }
      const signed = await signer.sign({
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers: { ...request.headers, host: url.host },
      });
      return signed.headers as Record<string, string>;
    };
  };
  return {
    async sign(request, scope) {
      made ??= make();
      made.catch(() => {
        made = undefined;
      });
      const sign = await made;
      return sign(request, scope.region, scope.service);
    },
  };
}
