import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaClient } from './lambda.ts';
import { sendOptions } from './lazy.ts';

/**
 * Starts a Lambda durable execution: an asynchronous `Invoke` of the durable function's qualified ARN (an
 * alias or version: durable functions are invoked qualified) with `DurableExecutionName`, Lambda's
 * idempotency key for executions (1-64 of `[A-Za-z0-9_-]`). The same name with the same payload returns
 * the execution already started, running or finished (`started`: a duplicate delivery is a no-op); the
 * same name with another payload is refused with `DurableExecutionAlreadyStartedException`
 * (`already-started`: someone else's start holds the name, which the caller must not trust).
 * See https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-idempotency.html. Rejects with the
 * SDK's error for anything else (AccessDenied, throttling, a missing function).
 */
export interface DurableStartPort {
  start(
    request: { readonly functionArn: string; readonly name: string; readonly payload: unknown },
    signal?: AbortSignal,
  ): Promise<'started' | 'already-started'>;
}

export function durableStartAdapter(client: () => LambdaClient = lambdaClient): DurableStartPort {
  return {
    async start({ functionArn, name, payload }, signal) {
      try {
        const out = await client().send(
          new InvokeCommand({
            FunctionName: functionArn,
            InvocationType: 'Event',
            DurableExecutionName: name,
            Payload: new TextEncoder().encode(JSON.stringify(payload)),
          }),
          sendOptions(signal),
        );
        // Lambda answers 202 once the execution is queued; anything else means it was not.
        if (out.StatusCode !== 202) throw new Error(`durable start of ${functionArn} answered ${out.StatusCode}`);
        return 'started';
      } catch (error) {
        if ((error as Error)?.name === 'DurableExecutionAlreadyStartedException') return 'already-started';
        throw error;
      }
    },
  };
}
