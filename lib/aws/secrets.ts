import type { SecretPort } from '../checks/secrets.ts';
import { getParameter, ssmProvider } from './ssm.ts';

/** Secrets from SSM Parameter Store, read each time (Powertools' cache is not used: `maxAge` 0). */
export function secretsAdapter(provider = ssmProvider): SecretPort {
  return {
    read: (source, signal) => getParameter(source.ssm, { signal, maxAge: 0, provider }),
  };
}
