import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { LambdaInvokePort } from '../checks/lambda-invoke.ts';
import { compact, lazy, sendOptions } from './lazy.ts';

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
