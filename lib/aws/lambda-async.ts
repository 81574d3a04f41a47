import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaClient } from './lambda.ts';
import { sendOptions } from './lazy.ts';

/** Queues an asynchronous invocation: how a gate continues a long analysis in a fresh invocation of itself. */
export interface AsyncInvokePort {
  invokeAsync(functionArn: string, payload: unknown, signal?: AbortSignal): Promise<void>;
}

export function asyncInvokeAdapter(client: () => LambdaClient = lambdaClient): AsyncInvokePort {
  return {
    async invokeAsync(functionArn, payload, signal) {
      const out = await client().send(
        new InvokeCommand({
          FunctionName: functionArn,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
        sendOptions(signal),
      );
      // Lambda answers 202 once the event is queued; anything else means it was not.
      if (out.StatusCode !== 202) throw new Error(`asynchronous invoke of ${functionArn} answered ${out.StatusCode}`);
    },
  };
}
