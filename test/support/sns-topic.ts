/**
 * An SNS topic in moto_server with an SQS queue subscribed to it, the way an email address or Amazon Q
 * Developer's endpoint is subscribed to the failure notification topic. SNS (query protocol) and SQS
 * (JSON protocol) are spoken directly: the project has no SNS or SQS client, and moto does not check
 * signatures.
 */
export interface TopicWithQueue {
  readonly topicArn: string;
  /** Publishes as a target of a rule would: the message is the text the rule hands the topic. */
  publish(message: string): Promise<void>;
  /** The messages (the SNS `Message` of each delivery) received since the last call; the queue is drained. */
  receive(): Promise<{ topicArn: string; message: string }[]>;
}

const authorization = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;

export async function topicWithQueue(motoUrl: string, name: string): Promise<TopicWithQueue> {
  const sns = async (params: Record<string, string>): Promise<string> => {
    const res = await fetch(motoUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: authorization('sns') },
      body: new URLSearchParams({ Version: '2010-03-31', ...params }).toString(),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`SNS ${params.Action} answered ${res.status}: ${text.slice(0, 500)}`);
    return text;
  };
  const sqs = async (operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const res = await fetch(motoUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `AmazonSQS.${operation}`,
        authorization: authorization('sqs'),
      },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`SQS ${operation} answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const created = await sns({ Action: 'CreateTopic', Name: name });
  const topicArn = /<TopicArn>([^<]+)<\/TopicArn>/.exec(created)?.[1];
  if (!topicArn) throw new Error(`CreateTopic gave no TopicArn: ${created.slice(0, 300)}`);
  const queueUrl = String((await sqs('CreateQueue', { QueueName: `${name}-subscriber` })).QueueUrl);
  const attributes = await sqs('GetQueueAttributes', { QueueUrl: queueUrl, AttributeNames: ['QueueArn'] });
  const queueArn = String((attributes.Attributes as Record<string, unknown>).QueueArn);
  await sns({ Action: 'Subscribe', TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn });
  return {
    topicArn,
    async publish(message) {
      await sns({ Action: 'Publish', TopicArn: topicArn, Message: message });
    },
    async receive() {
      const out: { topicArn: string; message: string }[] = [];
      for (;;) {
        const batch = await sqs('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10 });
        const messages = (batch.Messages ?? []) as { Body: string; ReceiptHandle: string }[];
        if (messages.length === 0) return out;
        for (const m of messages) {
          const envelope = JSON.parse(m.Body) as { TopicArn: string; Message: string };
          out.push({ topicArn: envelope.TopicArn, message: envelope.Message });
          await sqs('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle });
        }
      }
    },
  };
}
