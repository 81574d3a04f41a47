import {
  type Event,
  GetDurableExecutionCommand,
  GetDurableExecutionHistoryCommand,
  type LambdaClient,
  ListDurableExecutionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { lambdaClient } from './lambda.ts';
import { compact, sendOptions } from './lazy.ts';

/** A durable execution as `ListDurableExecutionsByFunction` and `GetDurableExecution` show it. */
export interface DurableExecutionSummary {
  readonly arn: string;
  readonly name: string;
  readonly functionArn?: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED. */
  readonly status: string;
  /** Epoch ms. */
  readonly startedAt?: number;
  readonly endedAt?: number;
}

/** One event of `GetDurableExecutionHistory`, with what status needs of it: names, times and JSON payloads. */
export interface DurableHistoryEvent {
  /** ExecutionStarted, StepStarted, StepSucceeded, StepFailed, WaitStarted, WaitSucceeded, ExecutionSucceeded, ... */
  readonly type: string;
  readonly name?: string;
  /** Epoch ms. */
  readonly at?: number;
  /** The JSON text the event carries: the execution's input or result, a step's result, an error's message. */
  readonly payload?: string;
  /** A wait's scheduled end, epoch ms. */
  readonly scheduledEndAt?: number;
}

/**
 * The Lambda durable-execution reads `greenlight status` makes (read-only:
 * lambda:ListDurableExecutionsByFunction, lambda:GetDurableExecution, lambda:GetDurableExecutionHistory;
 * https://docs.aws.amazon.com/lambda/latest/api/API_GetDurableExecutionHistory.html). Rejects with the
 * SDK's error (AccessDenied, ResourceNotFound, throttling).
 */
export interface DurableReadPort {
  /** The function's executions started after `startedAfter` (epoch ms), newest first, at most `limit`. */
  list(
    functionName: string,
    options: { readonly startedAfter?: number; readonly limit?: number },
    signal?: AbortSignal,
  ): Promise<DurableExecutionSummary[]>;
  /** One execution with its input payload (the hook it analyses). */
  get(arn: string, signal?: AbortSignal): Promise<DurableExecutionSummary & { readonly input?: string }>;
  /** The execution's history with each event's data (step results), oldest first, all pages (bounded). */
  history(arn: string, signal?: AbortSignal): Promise<DurableHistoryEvent[]>;
}

/** Pages read at most per history: a bake of an hour has some 200 events; 20 pages of 1000 is far beyond. */
const maxPages = 20;

export function durableReadAdapter(client: () => LambdaClient = lambdaClient): DurableReadPort {
  return {
    async list(functionName, { startedAfter, limit = 50 }, signal) {
      const found: DurableExecutionSummary[] = [];
      let marker: string | undefined;
      for (let page = 0; page < maxPages && found.length < limit; page++) {
        const out = await client().send(
          new ListDurableExecutionsByFunctionCommand({
            FunctionName: unqualified(functionName),
            ReverseOrder: true,
            MaxItems: Math.min(1000, limit - found.length),
            ...(startedAfter !== undefined ? { StartedAfter: new Date(startedAfter) } : {}),
            ...(marker !== undefined ? { Marker: marker } : {}),
          }),
          sendOptions(signal),
        );
        for (const e of out.DurableExecutions ?? []) {
          found.push(
            compact({
              arn: e.DurableExecutionArn ?? '',
              name: e.DurableExecutionName ?? '',
              functionArn: e.FunctionArn,
              status: e.Status ?? 'UNKNOWN',
              startedAt: e.StartTimestamp?.getTime(),
              endedAt: e.EndTimestamp?.getTime(),
            }),
          );
        }
        marker = out.NextMarker;
        if (!marker) break;
      }
      return found.slice(0, limit);
    },

    async get(arn, signal) {
      const e = await client().send(
        new GetDurableExecutionCommand({ DurableExecutionArn: arn, IncludeExecutionData: true }),
        sendOptions(signal),
      );
      return compact({
        arn: e.DurableExecutionArn ?? arn,
        name: e.DurableExecutionName ?? '',
        functionArn: e.FunctionArn,
        status: e.Status ?? 'UNKNOWN',
        startedAt: e.StartTimestamp?.getTime(),
        endedAt: e.EndTimestamp?.getTime(),
        input: e.InputPayload,
      });
    },

    async history(arn, signal) {
      const events: DurableHistoryEvent[] = [];
      let marker: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const out = await client().send(
          new GetDurableExecutionHistoryCommand({
            DurableExecutionArn: arn,
            IncludeExecutionData: true,
            MaxItems: 1000,
            ...(marker !== undefined ? { Marker: marker } : {}),
          }),
          sendOptions(signal),
        );
        for (const e of out.Events ?? []) events.push(historyEvent(e));
        marker = out.NextMarker;
        if (!marker) break;
      }
      return events;
    },
  };
}

/**
 * The function without its qualifier: the entry functions start executions on the durable function's alias
 * (the stack's DurableAnalysisAliasArn, GREENLIGHT_DURABLE_FUNCTION), and every execution of the function
 * is listed whichever version or alias ran it. `name`, a partial or a full ARN.
 */
export function unqualified(functionName: string): string {
  const arn = /^(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+):[^:]+$/.exec(functionName);
  if (arn) return arn[1] as string;
  const partial = /^(\d{12}:function:[^:]+):[^:]+$/.exec(functionName) ?? /^([^:]+):[^:]+$/.exec(functionName);
  return partial && !functionName.startsWith('arn:') ? (partial[1] as string) : functionName;
}

/** One history event as the SDK returns it (`GetDurableExecutionHistory`'s `Events[]`), in status's terms. */
export function historyEvent(e: Event): DurableHistoryEvent {
  const payload =
    e.ExecutionStartedDetails?.Input?.Payload ??
    e.ExecutionSucceededDetails?.Result?.Payload ??
    e.StepSucceededDetails?.Result?.Payload ??
    e.StepFailedDetails?.Error?.Payload?.ErrorMessage ??
    e.ExecutionFailedDetails?.Error?.Payload?.ErrorMessage ??
    e.ExecutionTimedOutDetails?.Error?.Payload?.ErrorMessage ??
    e.ExecutionStoppedDetails?.Error?.Payload?.ErrorMessage;
  return compact({
    type: e.EventType ?? 'Unknown',
    name: e.Name,
    at: e.EventTimestamp?.getTime(),
    payload,
    scheduledEndAt: e.WaitStartedDetails?.ScheduledEndTimestamp?.getTime(),
  });
}
