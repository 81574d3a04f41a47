import type { SecretPort } from '../checks/secrets.ts';
import { getParameter, ssmProvider } from './ssm.ts';

/** A plan asked for a secret it may never have. */
export class ForbiddenSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenSecretError';
  }
}

const secretsManagerReference = '/aws/reference/secretsmanager/';

/**
 * Secrets from SSM Parameter Store, read each time (Powertools' cache is not used: `maxAge` 0).
 * `stateKeySecretArn` (GREENLIGHT_STATE_KEY_SECRET_ARN) is the one secret a plan may never read, even
 * through SSM's Secrets Manager references (`/aws/reference/secretsmanager/<name or ARN>`): whoever held
 * it could forge the state greenlight carries between invocations (SECURITY.md, trust boundary).
 * Throws `ForbiddenSecretError` for it, before any request.
 */
export function secretsAdapter(
  provider = ssmProvider,
  stateKeySecretArn: string | undefined = process.env.GREENLIGHT_STATE_KEY_SECRET_ARN,
): SecretPort {
  return {
    read: (source, signal) => {
      if (refersToStateKey(source.ssm, stateKeySecretArn)) {
        return Promise.reject(
          new ForbiddenSecretError(
            `${source.ssm} refers to greenlight's state key, which no plan may read (SECURITY.md, trust boundary)`,
          ),
        );
      }
      return getParameter(source.ssm, { signal, maxAge: 0, provider });
    },
  };
}

/**
 * Whether an SSM name is a Secrets Manager reference to the state key: by ARN, or by name (the ARN's
 * name part, with or without Secrets Manager's 6-character suffix), compared without case since the
 * reference's name is resolved by Secrets Manager.
 */
function refersToStateKey(name: string, stateKeySecretArn: string | undefined): boolean {
  if (!name.toLowerCase().startsWith(secretsManagerReference)) return false;
  if (!stateKeySecretArn) return false;
  const referenced = name.slice(secretsManagerReference.length).split(':version')[0]?.toLowerCase() ?? '';
  const arn = stateKeySecretArn.toLowerCase();
  const fullName = arn.split(':secret:')[1] ?? arn;
  const shortName = fullName.replace(/-[a-z0-9]{6}$/, '');
  return [arn, fullName, shortName].some((k) => referenced === k || referenced.startsWith(`${k}:`));
}
