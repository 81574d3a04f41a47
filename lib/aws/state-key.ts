import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { lazy } from './lazy.ts';

/**
 * The key that authenticates state greenlight carries between invocations (ECS hookDetails, the gates'
 * own continuations): `(signal) => key`. It rejects with a `StateKeyError` when the key cannot be had;
 * callers turn that into a failed verdict, never a pass.
 */
export type StateKeyPort = (signal?: AbortSignal) => Promise<Uint8Array>;

/** The state key cannot be read or is unusable. The message names the setting, never the value. */
export class StateKeyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateKeyError';
  }
}

/** The environment variable naming the Secrets Manager secret (ARN or name) that holds the state key. */
export const stateKeySecretVariable = 'GREENLIGHT_STATE_KEY_SECRET_ARN';
/** The template generates 64 characters; fewer than 32 is not a key worth trusting. */
export const minStateKeyChars = 32;
/**
 * Seconds a read key is cached. The secret is generated once with the stack and never rotated by
 * greenlight, so one read per execution environment is enough; an hour bounds a manual rotation's reach.
 */
const stateKeyMaxAgeSeconds = 3_600;

// One provider per execution environment: its cache is what makes the key cost one read per container.
// Its module (and the Secrets Manager client) is evaluated on first use, not at every cold start.
const provider = lazy(
  async (): Promise<SecretsProvider> =>
    new (await import('@aws-lambda-powertools/parameters/secrets')).SecretsProvider(),
);

/**
 * Reads the state key from the Secrets Manager secret named by `GREENLIGHT_STATE_KEY_SECRET_ARN`
 * (`secretsmanager:GetSecretValue`), through Powertools Parameters with a long cache. Nothing is read
 * until a trigger writes or reads carried state: an analysis that fits one invocation never pays for it.
 */
export function stateKeyFromEnv(env: NodeJS.ProcessEnv = process.env): StateKeyPort {
  return async (signal) => {
    const secretId = env[stateKeySecretVariable];
    if (!secretId) {
      throw new StateKeyError(
        `${stateKeySecretVariable} is not set: carried state cannot be authenticated without the state key`,
      );
    }
    let value: unknown;
    try {
      const read = provider().then((p) => p.get(secretId, { maxAge: stateKeyMaxAgeSeconds }));
      value = await (signal ? abortable(read, signal) : read);
    } catch (error) {
      const name = (error as Error)?.name ?? 'Error';
      const cause = (error as { cause?: { name?: string } })?.cause?.name;
      throw new StateKeyError(
        `cannot read the state key (${stateKeySecretVariable}): ${name}${cause ? ` (${cause})` : ''}`,
        { cause: error },
      );
    }
    if (typeof value !== 'string' || value.length < minStateKeyChars) {
      throw new StateKeyError(
        `the state key (${stateKeySecretVariable}) is not a string of at least ${minStateKeyChars} characters`,
      );
    }
    return new TextEncoder().encode(value);
  };
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
