import { getParameter, ssmProvider } from './ssm.ts';

/** Where a plan's secret lives. Only SSM Parameter Store (a SecureString, decrypted) for now. */
export interface SecretSource {
  /** A parameter name (`/greenlight/api-token`) or ARN. */
  readonly ssm: string;
}

/** Reads a secret's current value. Values are never cached beyond the invocation that asked. */
export interface SecretPort {
  read(source: SecretSource, signal: AbortSignal): Promise<string>;
}

/** Secrets from SSM Parameter Store, read each time (Powertools' cache is not used: `maxAge` 0). */
export function secretsAdapter(provider = ssmProvider): SecretPort {
  return {
    read: (source, signal) => getParameter(source.ssm, { signal, maxAge: 0, provider }),
  };
}
