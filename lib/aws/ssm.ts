import type { SSMClient } from '@aws-sdk/client-ssm';
import { lazy, sendOptions } from './lazy.ts';

// The SSM client is the largest SDK client in every bundle, and only plans and secrets kept in Parameter
// Store need it: its module is evaluated on first use, not at every cold start.
const ssmModule = lazy(() => import('./ssm-sdk.ts'));

export const ssmClient = lazy(async () => new (await ssmModule()).SSMClient({}));

/** Reads one parameter's value, decrypted (plans may be SecureString). */
export async function getParameter(
  name: string,
  signal?: AbortSignal,
  client: () => SSMClient | Promise<SSMClient> = ssmClient,
): Promise<string> {
  const { GetParameterCommand } = await ssmModule();
  const out = await (await client()).send(
    new GetParameterCommand({ Name: name, WithDecryption: true }),
    sendOptions(signal),
  );
  const value = out.Parameter?.Value;
  if (value === undefined) throw new Error(`SSM parameter ${name} has no value`);
  return value;
}
