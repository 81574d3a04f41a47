import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { lazy, sendOptions } from './lazy.ts';

/** One event for an EventBridge bus: `detail` is already JSON text. */
export interface BusEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
  /** A bus name or ARN; the account's default bus when absent. */
  readonly busName?: string;
}

/** Where verdict events go. Resolves with the event id; rejects when the event was not accepted. */
export interface EventsPort {
  putEvent(event: BusEvent, signal?: AbortSignal): Promise<string | undefined>;
}

/** EventBridge answered 200 but did not accept the entry (`FailedEntryCount` above 0). */
export class PutEventsError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`event not accepted: ${code}: ${message}`);
    this.name = 'PutEventsError';
    this.code = code;
  }
}

// Needed only after a verdict is delivered: the client's module is evaluated then, not at every cold start.
const eventsModule = lazy(() => import('./events-sdk.ts'));

export const eventBridgeClient = lazy(async () => new (await eventsModule()).EventBridgeClient({}));

export function eventsAdapter(
  client: () => EventBridgeClient | Promise<EventBridgeClient> = eventBridgeClient,
): EventsPort {
  return {
    async putEvent(event, signal) {
      const { PutEventsCommand } = await eventsModule();
      const out = await (await client()).send(
        new PutEventsCommand({
          Entries: [
            {
              Source: event.source,
              DetailType: event.detailType,
              Detail: event.detail,
              ...(event.busName ? { EventBusName: event.busName } : {}),
            },
          ],
        }),
        sendOptions(signal),
      );
      // PutEvents reports rejected entries in a 200 answer, not as an error.
      const entry = out.Entries?.[0];
      if ((out.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode) {
        throw new PutEventsError(entry?.ErrorCode ?? 'Unknown', entry?.ErrorMessage ?? 'no reason given');
      }
      return entry?.EventId;
    },
  };
}
