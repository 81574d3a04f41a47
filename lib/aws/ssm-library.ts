import { type GetParameterOptions, ssmProvider } from './ssm.ts';

// Only `greenlight validate --library` lists the plan library; the functions read plans by name
// (ssm.ts) and are granted no GetParametersByPath.
const ssmModule = () => import('./ssm-sdk.ts');

/**
 * Every parameter under `path` (recursively), decrypted, by its name relative to `path`: the plan library
 * as `greenlight validate --library /prefix/` reads it (`GetParametersByPath`).
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
 */
export async function parametersByPath(
  path: string,
  options: Pick<GetParameterOptions, 'provider'> = {},
): Promise<ReadonlyMap<string, string>> {
  const { provider = ssmProvider } = options;
  const { GetParameterError } = await ssmModule();
  try {
    const values = await (await provider()).getMultiple(path, { recursive: true, decrypt: true, forceFetch: true });
    return new Map(Object.entries(values ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch (error) {
    throw error instanceof GetParameterError && error.cause instanceof Error ? error.cause : error;
  }
}
