import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readBuildTargets } from '../../local/build-targets.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { localFunction, readTemplate } from '../../local/template.ts';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

export type Invocation =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: Error };

/** A function of template.yaml, loaded into this process to be invoked like Lambda would. */
export interface LocalHandler {
  readonly logicalId: string;
  /** False when template.yaml does not declare the function yet and it runs from its entry point. */
  readonly inTemplate: boolean;
  readonly declaredTimeoutSeconds: number;
  readonly functionName: string;
  /** The function's source entry point, relative to the project (functions/<name>/index.ts). */
  readonly entryPoint: string;
  readonly timeoutSeconds: number;
  invoke(event: unknown): Promise<Invocation>;
}

export interface LoadOptions {
  /** The invocation's timeout instead of the template's (the rehearsal shortens one to show resumption). */
  readonly timeoutSeconds?: number;
  /** Where the function is when template.yaml does not declare it (yet). */
  readonly notInTemplate?: { readonly entryPoint: string; readonly functionName: string };
}

/**
 * Loads a function as template.yaml defines it (entry point, handler, environment, timeout, memory)
 * and returns an invoker that runs its real handler in this process, with the function's environment
 * applied for the invocation and `overrides` (the rehearsal's plan, log level, endpoints) on top,
 * and a Lambda context whose remaining time counts down from the template's timeout.
 * Import it only after the environment the function's module reads at load is set.
 */
export async function loadHandler(
  logicalId: string,
  overrides: Readonly<Record<string, string>>,
  options: LoadOptions = {},
): Promise<LocalHandler> {
  const region = overrides.AWS_REGION ?? 'us-east-1';
  const template = await readTemplate(resolve(projectRoot, 'template.yaml'));
  const builds = new Map(await readBuildTargets(projectRoot));
  const inTemplate = template.Resources[logicalId]?.Type === 'AWS::Serverless::Function';
  if (!inTemplate && options.notInTemplate) {
    // A function whose template resource and Makefile target have not landed yet still runs, with the
    // template's Globals.
    template.Resources[logicalId] = {
      Type: 'AWS::Serverless::Function',
      Properties: { Handler: 'index.handler', FunctionName: options.notInTemplate.functionName },
    };
    builds.set(logicalId, basename(dirname(options.notInTemplate.entryPoint)));
  }
  const declared = localFunction(template, logicalId, { region, stackName: 'greenlight-rehearsal', builds });
  const fn = options.timeoutSeconds === undefined ? declared : { ...declared, timeoutSeconds: options.timeoutSeconds };
  const exportName = fn.handler.slice(fn.handler.lastIndexOf('.') + 1);
  const environment: Record<string, string> = { ...fn.environment, ...overrides };
  // NODE_OPTIONS only means something when a process starts.
  delete environment.NODE_OPTIONS;
  const mod = (await withEnvironment(
    environment,
    () => import(pathToFileURL(resolve(projectRoot, fn.entryPoint)).href),
  )) as Record<string, unknown>;
  const handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${fn.entryPoint} does not export ${exportName}`);
  return {
    logicalId,
    inTemplate,
    declaredTimeoutSeconds: declared.timeoutSeconds,
    functionName: fn.functionName,
    entryPoint: fn.entryPoint,
    timeoutSeconds: fn.timeoutSeconds,
    invoke: (event) =>
      withEnvironment(
        {
          ...environment,
          AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        },
        async (): Promise<Invocation> => {
          const context = lambdaContext({
            functionName: fn.functionName,
            timeoutMs: fn.timeoutSeconds * 1000,
            memoryMb: fn.memoryMb,
            region,
          });
          try {
            return {
              ok: true,
              result: await (handler as (e: unknown, c: unknown) => Promise<unknown>)(event, context),
            };
          } catch (error) {
            return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
          }
        },
      ),
  };
}

/** Runs `work` with `variables` set in process.env, then puts back what was there before. */
async function withEnvironment<T>(variables: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  const before = new Map(Object.keys(variables).map((k) => [k, process.env[k]] as const));
  Object.assign(process.env, variables);
  try {
    return await work();
  } finally {
    for (const [key, value] of before) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
