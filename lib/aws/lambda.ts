import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { compact, lazy, sendOptions } from './lazy.ts';

export interface InvokeResult {
  readonly statusCode?: number;
  /** `Handled` or `Unhandled` when the function failed; absent when it did not. */
  readonly functionError?: string;
  /** The version that ran (for an alias, the version it points to). */
  readonly executedVersion?: string;
  /** The response payload as text (JSON for Node.js and Python functions). */
  readonly payload: string;
}

/** What the lambda-invoke check asks of AWS Lambda: one synchronous invocation. */
export interface LambdaInvokePort {
  invoke(
    input: { functionName: string; qualifier?: string; payload: string },
    signal?: AbortSignal,
  ): Promise<InvokeResult>;
}

export const lambdaClient = lazy(() => new LambdaClient({}));

export function lambdaInvokeAdapter(client: () => LambdaClient = lambdaClient): LambdaInvokePort {
  return {
    async invoke(input, signal) {
      const out = await client().send(
        new InvokeCommand({
          FunctionName: input.functionName,
          ...(input.qualifier ? { Qualifier: input.qualifier } : {}),
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(input.payload),
        }),
        sendOptions(signal),
      );
      return compact({
        statusCode: out.StatusCode,
        functionError: out.FunctionError,
        executedVersion: out.ExecutedVersion,
        payload: out.Payload ? new TextDecoder().decode(out.Payload) : '',
      });
    },
  };
}
