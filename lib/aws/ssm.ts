import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { lazy } from './lazy.ts';

// The SSM client is the largest SDK client in every bundle, and only plans and secrets kept in Parameter
// Store need it: its module (and Powertools Parameters with it) is evaluated on first use, not at every
// cold start.
const ssmModule = lazy(() => import('./ssm-sdk.ts'));

/** The SSM client, made on first use (it honours AWS_ENDPOINT_URL_SSM, read when it is made). */
export const ssmClient = lazy(async () => new (await ssmModule()).SSMClient({}));

/** Powertools' SSM provider over `ssmClient`: its cache lives as long as the container. */
export const ssmProvider = lazy(
  async (): Promise<SSMProvider> => new (await ssmModule()).SSMProvider({ awsSdkV3Client: await ssmClient() }),
);

export interface GetParameterOptions {
  /** Stop waiting when this aborts (the SDK call itself is not cancelled: Powertools does not pass a signal on). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Seconds a value read is reused for (Powertools' `maxAge`); 0, the default, reads SSM every time and
   * keeps nothing.
   */
  readonly maxAge?: number;
  /** The provider to read through (tests). */
  readonly provider?: () => Promise<SSMProvider>;
}

/**
 * Reads one parameter's value through Powertools Parameters, decrypted (plans and secrets may be
 * SecureString): `GetParameter` with `WithDecryption`.
 * Rejects with the SDK's own error (`ParameterNotFound`, `AccessDeniedException`, ...) as Powertools
 * received it, not its `GetParameterError` wrapper, so that messages name what went wrong; with an
 * `Error` when the parameter has no value; with the signal's reason when it aborts first.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 */
export async function getParameter(name: string, options: GetParameterOptions = {}): Promise<string> {
  const { signal, maxAge = 0, provider = ssmProvider } = options;
  signal?.throwIfAborted();
  const { GetParameterError } = await ssmModule();
  const read = (async () => {
    try {
      // forceFetch when nothing is cached: a secret's value is never taken from an earlier read.
      return await (await provider()).get(name, { decrypt: true, maxAge, forceFetch: maxAge <= 0 });
    } catch (error) {
      throw error instanceof GetParameterError && error.cause instanceof Error ? error.cause : error;
    }
  })();
  const value = await (signal ? untilAborted(read, signal) : read);
  if (value === undefined) throw new Error(`SSM parameter ${name} has no value`);
  return value;
}

/** Names found missing, and until when (epoch ms) that answer is reused: misses cost a call too. */
const missing = new Map<string, number>();

/**
 * Reads several parameters' values through Powertools Parameters in batches of ten (`GetParameters` with
 * `WithDecryption`), each reused for `maxAge` seconds. A name SSM reports as invalid (it does not exist)
 * is absent from the result, and that answer too is reused for `maxAge` seconds, so that a route whose
 * first key has no plan does not ask SSM at every invocation. Rejects with the SDK's own error on
 * anything else (`AccessDeniedException`, throttling after the SDK's retries).
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
 */
export async function getParameters(
  names: readonly string[],
  options: GetParameterOptions = {},
): Promise<ReadonlyMap<string, string>> {
  const { signal, maxAge = 0, provider = ssmProvider } = options;
  signal?.throwIfAborted();
  const now = Date.now();
  const wanted = [...new Set(names)].filter((n) => (missing.get(n) ?? 0) <= now);
  const found = new Map<string, string>();
  if (wanted.length === 0) return found;
  const { GetParameterError } = await ssmModule();
  const read = (async () => {
    try {
      return await (await provider()).getParametersByName(Object.fromEntries(wanted.map((n) => [n, {}])), {
        decrypt: true,
        maxAge,
        throwOnError: false,
      });
    } catch (error) {
      throw error instanceof GetParameterError && error.cause instanceof Error ? error.cause : error;
    }
  })();
  const values = (await (signal ? untilAborted(read, signal) : read)) as Record<string, unknown>;
  for (const name of wanted) {
    const value = values[name];
    if (typeof value === 'string') {
      found.set(name, value);
      missing.delete(name);
    } else if (maxAge > 0) {
      missing.set(name, now + maxAge * 1000);
    }
  }
  return found;
}

/** Forgets which names were missing (tests). */
export function clearMissingParameters(): void {
  missing.clear();
}

/** The work's outcome, or the signal's reason if it aborts first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
