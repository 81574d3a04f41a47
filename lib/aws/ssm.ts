import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { lazy, sendOptions } from './lazy.ts';

export const ssmClient = lazy(() => new SSMClient({}));

/** Reads one parameter's value, decrypted (plans may be SecureString). */
export async function getParameter(
  name: string,
  signal?: AbortSignal,
  client: () => SSMClient = ssmClient,
): Promise<string> {
  const out = await client().send(new GetParameterCommand({ Name: name, WithDecryption: true }), sendOptions(signal));
  const value = out.Parameter?.Value;
  if (value === undefined) throw new Error(`SSM parameter ${name} has no value`);
  return value;
}
