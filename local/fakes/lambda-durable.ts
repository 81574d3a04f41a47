import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DurableSteps } from '../../lib/gate/durable.ts';
import { forward, readBody } from './http.ts';

/**
 * The Lambda durable-execution read APIs (REST-JSON, API version 2025-12-01) that `greenlight status` calls:
 * ListDurableExecutionsByFunction (`GET /2025-12-01/functions/{FunctionName}/durable-executions`),
 * GetDurableExecution (`GET /2025-12-01/durable-executions/{arn}`) and GetDurableExecutionHistory
 * (`.../history`), answered from executions recorded as they run: wrap the `DurableContext` a handler gets
 * (`execution.observe(ctx)`) and each step and wait it makes becomes the history events Lambda records
 * (StepStarted / StepSucceeded with the step's result, WaitStarted with its scheduled end, ...). Or load a
 * finished history (`LocalDurableTestRunner`'s `getHistoryEvents()`). moto_server has none of these APIs.
 * Anything else (Invoke, to start executions) is forwarded to `fallback` when one is given.
 * Point the SDK at it with AWS_ENDPOINT_URL_LAMBDA.
 */
export interface LambdaDurableFake {
  readonly url: string;
  /** Records a new execution of `functionName` started with `input` (its ExecutionStarted event). */
  start(o: { functionName: string; name: string; input: unknown; at?: number }): RecordedExecution;
  /** An execution from a finished history, in the API's shape (`Event[]`, as `getHistoryEvents()` returns). */
  load(o: { functionName: string; name: string; events: readonly unknown[]; status?: string }): void;
  /** The requests it answered, by operation name. */
  readonly calls: string[];
  close(): Promise<void>;
}

/** One execution being recorded. */
export interface RecordedExecution {
  readonly arn: string;
  readonly name: string;
  /** The handler's context with every step and wait recorded (replays record nothing twice). */
  observe(ctx: DurableSteps): DurableSteps;
  /** The execution ended with this result (ExecutionSucceeded). */
  succeed(result: unknown): void;
  /** The execution failed (ExecutionFailed). */
  fail(error: unknown): void;
}

interface Execution {
  readonly arn: string;
  readonly name: string;
  readonly functionArn: string;
  status: string;
  readonly startedAt: number;
  endedAt?: number;
  readonly input: string;
  readonly events: Record<string, unknown>[];
}

const region = 'us-east-1';
const account = '123456789012';

export async function startLambdaDurableFake(
  options: { fallback?: string; port?: number } = {},
): Promise<LambdaDurableFake> {
  const executions: Execution[] = [];
  const calls: string[] = [];

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }, 'ServiceException'));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const list = /^\/2025-12-01\/functions\/([^/]+)\/durable-executions$/.exec(path);
    const one = /^\/2025-12-01\/durable-executions\/([^/]+)(\/history)?$/.exec(path);
    if (req.method === 'GET' && list) {
      calls.push('ListDurableExecutionsByFunction');
      const fn = decodeURIComponent(list[1] as string);
      const after = Number(url.searchParams.get('StartedAfter') ?? Number.NaN);
      const afterMs = Number.isFinite(after) ? after * 1000 : dateParam(url.searchParams.get('StartedAfter'));
      const found = executions
        .filter((e) => e.functionArn.endsWith(`:function:${fn}`) || e.functionArn === fn)
        .filter((e) => afterMs === undefined || e.startedAt >= afterMs)
        .sort((a, b) =>
          url.searchParams.get('ReverseOrder') === 'true' ? b.startedAt - a.startedAt : a.startedAt - b.startedAt,
        );
      return send(res, 200, {
        DurableExecutions: found.map((e) => ({
          DurableExecutionArn: e.arn,
          DurableExecutionName: e.name,
          FunctionArn: e.functionArn,
          Status: e.status,
          StartTimestamp: e.startedAt / 1000,
          ...(e.endedAt !== undefined ? { EndTimestamp: e.endedAt / 1000 } : {}),
        })),
      });
    }
    if (req.method === 'GET' && one) {
      const arn = decodeURIComponent(one[1] as string);
      const e = executions.find((x) => x.arn === arn);
      calls.push(one[2] ? 'GetDurableExecutionHistory' : 'GetDurableExecution');
      if (!e)
        return send(res, 404, { Type: 'User', message: `execution ${arn} not found` }, 'ResourceNotFoundException');
      if (one[2]) {
        const withData = url.searchParams.get('IncludeExecutionData') === 'true';
        return send(res, 200, { Events: e.events.map((ev) => (withData ? ev : withoutData(ev))) });
      }
      return send(res, 200, {
        DurableExecutionArn: e.arn,
        DurableExecutionName: e.name,
        FunctionArn: e.functionArn,
        Status: e.status,
        StartTimestamp: e.startedAt / 1000,
        ...(e.endedAt !== undefined ? { EndTimestamp: e.endedAt / 1000 } : {}),
        ...(url.searchParams.get('IncludeExecutionData') === 'true' ? { InputPayload: e.input } : {}),
      });
    }
    if (options.fallback) {
      return forward(options.fallback, req, body, res, (message) =>
        send(res, 502, { message: `fallback unreachable: ${message}` }, 'ServiceException'),
      );
    }
    return send(
      res,
      404,
      { Type: 'User', message: `fake does not implement ${req.method} ${path}` },
      'UnknownOperationException',
    );
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const functionArn = (fn: string) => `arn:aws:lambda:${region}:${account}:function:${fn}`;
  const arnOf = (fn: string, name: string) =>
    `${functionArn(fn)}:$LATEST/durable-execution/${name}/${executions.length + 1}`;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    start({ functionName, name, input, at = Date.now() }) {
      const e: Execution = {
        arn: arnOf(functionName, name),
        name,
        functionArn: functionArn(functionName),
        status: 'RUNNING',
        startedAt: at,
        input: JSON.stringify(input),
        events: [],
      };
      executions.push(e);
      const push = (event: Record<string, unknown>): void => {
        e.events.push({ EventId: e.events.length + 1, EventTimestamp: Date.now() / 1000, ...event });
      };
      push({ EventType: 'ExecutionStarted', Id: name, ExecutionStartedDetails: { Input: { Payload: e.input } } });
      const started = new Set<string>();
      const ended = new Set<string>();
      const stepStarted = (name: string) => {
        if (started.has(name)) return;
        started.add(name);
        push({ EventType: 'StepStarted', SubType: 'Step', Id: name, Name: name, StepStartedDetails: {} });
      };
      const stepEnded = (name: string, result: unknown) => {
        if (ended.has(name)) return;
        stepStarted(name);
        ended.add(name);
        push({
          EventType: 'StepSucceeded',
          SubType: 'Step',
          Id: name,
          Name: name,
          StepSucceededDetails: { Result: { Payload: JSON.stringify(result) } },
        });
      };
      return {
        arn: e.arn,
        name,
        observe(ctx) {
          return {
            get lambdaContext() {
              return ctx.lambdaContext;
            },
            step(name, fn, config) {
              const run = async () => {
                stepStarted(name);
                try {
                  return await fn();
                } catch (error) {
                  push({
                    EventType: 'StepFailed',
                    SubType: 'Step',
                    Id: name,
                    Name: name,
                    StepFailedDetails: {
                      Error: { Payload: { ErrorMessage: (error as Error)?.message ?? String(error) } },
                    },
                  });
                  throw error;
                }
              };
              return Promise.resolve(ctx.step(name, run, config)).then((value) => {
                stepEnded(name, value);
                return value;
              });
            },
            wait(name, duration) {
              if (!started.has(name)) {
                started.add(name);
                push({
                  EventType: 'WaitStarted',
                  SubType: 'Wait',
                  Id: name,
                  Name: name,
                  WaitStartedDetails: {
                    Duration: duration.seconds,
                    ScheduledEndTimestamp: (Date.now() + duration.seconds * 1000) / 1000,
                  },
                });
              }
              return Promise.resolve(ctx.wait(name, duration)).then(() => {
                if (ended.has(name)) return;
                ended.add(name);
                push({ EventType: 'WaitSucceeded', SubType: 'Wait', Id: name, Name: name, WaitSucceededDetails: {} });
              });
            },
          };
        },
        succeed(result) {
          if (e.status !== 'RUNNING') return;
          push({
            EventType: 'ExecutionSucceeded',
            Id: name,
            ExecutionSucceededDetails: { Result: { Payload: JSON.stringify(result) } },
          });
          e.status = 'SUCCEEDED';
          e.endedAt = Date.now();
        },
        fail(error) {
          if (e.status !== 'RUNNING') return;
          push({
            EventType: 'ExecutionFailed',
            Id: name,
            ExecutionFailedDetails: {
              Error: { Payload: { ErrorMessage: (error as Error)?.message ?? String(error) } },
            },
          });
          e.status = 'FAILED';
          e.endedAt = Date.now();
        },
      };
    },
    load({ functionName, name, events, status }) {
      const list = events.map((ev) => jsonEvent(ev as Record<string, unknown>));
      const first = list[0];
      const last = list.at(-1);
      const startedAt = Number(first?.EventTimestamp ?? Date.now() / 1000) * 1000;
      const end = String(last?.EventType ?? '');
      const terminal = /^Execution(Succeeded|Failed|TimedOut|Stopped)$/.exec(end)?.[1];
      const input =
        (first?.ExecutionStartedDetails as { Input?: { Payload?: string } } | undefined)?.Input?.Payload ?? '{}';
      executions.push({
        arn: arnOf(functionName, name),
        name,
        functionArn: functionArn(functionName),
        status: status ?? (terminal ? terminal.replace('TimedOut', 'TIMED_OUT').toUpperCase() : 'RUNNING'),
        startedAt,
        ...(terminal ? { endedAt: Number(last?.EventTimestamp ?? 0) * 1000 } : {}),
        input,
        events: list,
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** An Event as the SDK returns it (Date timestamps) in the wire's JSON (epoch seconds). */
function jsonEvent(event: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(event, (_key, value: unknown) => value),
    (key, value: unknown) => (/Timestamp$/.test(key) && typeof value === 'string' ? Date.parse(value) / 1000 : value),
  ) as Record<string, unknown>;
}

/** Without IncludeExecutionData, Lambda leaves out inputs, results and errors. */
function withoutData(event: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(event), (key, value: unknown) => (key === 'Payload' ? undefined : value)) as Record<
    string,
    unknown
  >;
}

function dateParam(value: string | null): number | undefined {
  if (value === null) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function send(res: ServerResponse, status: number, payload: unknown, errorType?: string): void {
  if (res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': `fake-${Date.now().toString(36)}`,
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}
