import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';

/** An event as an EventBridge rule delivers it to its target. */
export interface DeliveredEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: Record<string, unknown>;
}

export interface EventSink {
  /** The event pattern the rule matches, as a team would write it. */
  readonly pattern: Record<string, unknown>;
  /** Events the rule delivered since the last call (the queue is drained). */
  receive(): Promise<DeliveredEvent[]>;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * In moto_server: an SQS queue and a rule on the default bus that routes `pattern` to it, the way a
 * team routes greenlight verdicts to chat or tickets. SQS is spoken directly (JSON protocol): the
 * project has no SQS client, and moto does not check signatures.
 */
export async function routeEventsToQueue(
  motoUrl: string,
  name: string,
  pattern: Record<string, unknown>,
): Promise<EventSink> {
  const sqs = async (operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const res = await fetch(motoUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `AmazonSQS.${operation}`,
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`SQS ${operation} answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const queueUrl = String((await sqs('CreateQueue', { QueueName: name })).QueueUrl);
  const attributes = await sqs('GetQueueAttributes', { QueueUrl: queueUrl, AttributeNames: ['QueueArn'] });
  const queueArn = String((attributes.Attributes as Record<string, unknown>).QueueArn);
  const events = new EventBridgeClient({ region: 'us-east-1', endpoint: motoUrl, credentials });
  try {
    await events.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern) }));
    await events.send(new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  } finally {
    events.destroy();
  }
  return {
    pattern,
    async receive() {
      const out: DeliveredEvent[] = [];
      for (;;) {
        const batch = await sqs('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10 });
        const messages = (batch.Messages ?? []) as { Body: string; ReceiptHandle: string }[];
        if (messages.length === 0) return out;
        for (const m of messages) {
          out.push(JSON.parse(m.Body) as DeliveredEvent);
          await sqs('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle });
        }
      }
    },
  };
}
