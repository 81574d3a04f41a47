import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FakeAwsError, type JsonFake, startJsonFake } from './fakes/json-server.ts';

/** A state key secret in a local Secrets Manager (moto_server or the stand-in), as the template creates one. */
export interface LocalStateKey {
  /** For GREENLIGHT_STATE_KEY_SECRET_ARN. */
  readonly secretArn: string;
  /** The key itself (64 characters), for tests that must seal a payload as greenlight would. */
  readonly key: string;
  /** Where Secrets Manager answers, for AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly endpoint: string;
}

/** A random key like the template's GenerateSecretString (64 characters, letters and digits). */
export function newStateKey(): string {
  return randomBytes(48).toString('base64url').replace(/[-_]/g, 'x').slice(0, 64);
}

/**
 * Creates a state key secret in the Secrets Manager at `endpoint` (moto_server implements CreateSecret and
 * GetSecretValue) through the real SDK, and returns its ARN and value.
 */
export async function createStateKeySecret(endpoint: string, name = `greenlight-state-key-${Date.now()}`) {
  const client = new SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const key = newStateKey();
  try {
    const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: key }));
    if (!out.ARN) throw new Error('CreateSecret returned no ARN');
    return { secretArn: out.ARN, key, endpoint } satisfies LocalStateKey;
  } finally {
    client.destroy();
  }
}

/**
 * A Secrets Manager stand-in holding one state key, for when moto_server is not installed (the rehearsal,
 * `npm run invoke`): it answers GetSecretValue for that secret only, ResourceNotFoundException otherwise.
 */
export async function startStateKeyStandIn(): Promise<LocalStateKey & { readonly fake: JsonFake }> {
  const key = newStateKey();
  const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:greenlight-local-state-key-AbCdEf';
  const fake = await startJsonFake({
    operations: {
      GetSecretValue(input) {
        if (input.SecretId !== secretArn && input.SecretId !== 'greenlight-local-state-key') {
          throw new FakeAwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        }
        return { ARN: secretArn, Name: 'greenlight-local-state-key', SecretString: key, VersionId: 'local' };
      },
    },
  });
  return { secretArn, key, endpoint: fake.url, fake };
}
