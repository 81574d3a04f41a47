import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DurableContext, withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import type { DurableStartPort } from '../lib/aws/durable-start.ts';

/**
 * Lambda durable functions on this machine: a `DurableStartPort` that, instead of invoking Lambda, runs the
 * durable function's handler (functions/durable-analysis `analyse`) in this process on the SDK's own
 * LocalDurableTestRunner with skipped time, so that `npm start` and `npm run invoke` follow a 30-minute bake
 * to its verdict in seconds. As in Lambda, `start` only queues the execution (an asynchronous Invoke answers
 * 202 at once) and an execution name runs once: the same name again is `already-started`.
 *
 * Time: the runner skips each durable wait (no real sleep) but does not move the clock the handler reads,
 * so a durable wait here also moves `Date.now()` (the functions' system clock) to the wait's end, once, for
 * the whole process, while executions run (`settle`). A replay that passes a finished wait again does not
 * move it further. Measurements in between take their real time against real local servers.
 */

/** A durable handler, as `withDurableExecution` takes it. */
export type DurableHandler = (event: unknown, ctx: DurableContext) => Promise<unknown>;

/** What a local execution did, as it happened (replays of finished operations are not repeated here). */
export type DurableProgress =
  | { readonly kind: 'start'; readonly execution: string }
  /** A step's body ran (not a replay of its checkpoint). */
  | { readonly kind: 'step'; readonly execution: string; readonly name: string; readonly atMs: number }
  /** A durable wait began: `atMs` is the execution's (virtual) time since it started. */
  | {
      readonly kind: 'wait';
      readonly execution: string;
      readonly name: string;
      readonly seconds: number;
      readonly atMs: number;
    }
  | { readonly kind: 'end'; readonly execution: string; readonly status: string; readonly atMs: number };

/** One execution, once it ended. */
export interface LocalExecution {
  readonly name: string;
  readonly functionArn: string;
  readonly payload: unknown;
  /** The runner's status: SUCCEEDED, FAILED, ... */
  readonly status: string;
  readonly result: unknown;
  readonly error?: string;
  /** `STEP:open`, `WAIT:wait-0`, ... in order. */
  readonly operations: readonly string[];
  /** Virtual time the execution spanned, and the real time it took here. */
  readonly virtualMs: number;
  readonly realMs: number;
  /** Invocations of the handler (the first and one per replay) and the time each was active, real ms. */
  readonly invocations: readonly number[];
}

export interface LocalDurable extends DurableStartPort {
  /** Runs every queued execution (and any they start) to its end, in order; returns those that ran now. */
  settle(): Promise<readonly LocalExecution[]>;
  /** Every execution that ran, by name. */
  readonly executions: ReadonlyMap<string, LocalExecution>;
}

export interface LocalDurableOptions {
  /** The durable function's handler; default: functions/durable-analysis `analyse`. */
  readonly handler?: DurableHandler;
  /** Variables the durable function runs with (its template environment, endpoints), set while executions run. */
  readonly environment?: Readonly<Record<string, string>>;
  readonly onProgress?: (event: DurableProgress) => void;
  /**
   * The function's timeout, ms (default 900 000): each invocation's remaining time counts down from it.
   * Invocations here are not Lambda's: in Lambda the SDK ends an invocation 20 ms after everything left is
   * waiting, so every durable wait is a suspension and a replay; here the runner completes a skipped wait
   * within those 20 ms and the same invocation goes on. Their active time is the compute either way.
   */
  readonly timeoutMs?: number;
}

/** functions/durable-analysis's `analyse`, loaded when first needed (it reads the environment as it runs). */
export async function durableAnalysis(): Promise<DurableHandler> {
  const mod = (await import('../functions/durable-analysis/index.ts')) as { analyse: DurableHandler };
  return mod.analyse;
}

/**
 * A local DurableStartPort. Throws from `start` only what Lambda would refuse: a name outside
 * 1-64 of `[A-Za-z0-9_-]`. `settle` never throws for a failed execution: its status says so.
 */
export function localDurable(options: LocalDurableOptions = {}): LocalDurable {
  const queue: { name: string; functionArn: string; payload: unknown }[] = [];
  const payloads = new Map<string, string>();
  const executions = new Map<string, LocalExecution>();
  const emit = options.onProgress ?? (() => undefined);

  return {
    executions,
    async start({ functionArn, name, payload }) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
        throw Object.assign(new Error(`invalid DurableExecutionName ${JSON.stringify(name)}`), {
          name: 'InvalidParameterValueException',
        });
      }
      const text = JSON.stringify(payload);
      // As Lambda: the same name and payload return the execution already started (nothing new runs);
      // the same name with another payload is refused.
      const known = payloads.get(name);
      if (known !== undefined) return known === text ? 'started' : 'already-started';
      payloads.set(name, text);
      queue.push({ name, functionArn, payload: JSON.parse(text) });
      return 'started';
    },
    async settle() {
      const ran: LocalExecution[] = [];
      if (queue.length === 0) return ran;
      const handler = options.handler ?? (await durableAnalysis());
      const restoreEnv = setEnvironment(options.environment ?? {});
      await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
      const time = virtualTime();
      try {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const execution = await runOne(next, handler, time, emit, options.timeoutMs ?? 900_000);
          executions.set(execution.name, execution);
          ran.push(execution);
        }
      } finally {
        time.restore();
        await LocalDurableTestRunner.teardownTestEnvironment();
        restoreEnv();
      }
      return ran;
    },
  };
}

async function runOne(
  queued: { name: string; functionArn: string; payload: unknown },
  handler: DurableHandler,
  time: VirtualTime,
  emit: (event: DurableProgress) => void,
  invocationMs: number,
): Promise<LocalExecution> {
  const { name } = queued;
  const startedAt = Date.now();
  const realStart = realNow();
  /** Each wait's end, virtual epoch ms, from the invocation that began it. */
  const waitEnds = new Map<string, number>();
  const invocations: number[] = [];
  const since = () => Date.now() - startedAt;

  const durable = withDurableExecution((event: unknown, ctx: DurableContext) => handler(event, watched(ctx)));
  /** One invocation, as Lambda bills it: from the call until the SDK returns (done, or suspended at a wait). */
  const invoke: typeof durable = async (event, context) => {
    const began = realNow();
    try {
      // The runner's context says 900 s remain, always: count down from this invocation's own start instead.
      return await durable(event, {
        ...context,
        getRemainingTimeInMillis: () => Math.max(0, Math.floor(invocationMs - (realNow() - began))),
      });
    } finally {
      invocations.push(realNow() - began);
    }
  };

  /** The context with its steps and waits reported, and each finished wait moving the clock to its end. */
  function watched(ctx: DurableContext): DurableContext {
    const step = (stepName: string, fn: () => Promise<unknown>, config?: unknown) =>
      ctx.step(
        stepName,
        async () => {
          emit({ kind: 'step', execution: name, name: stepName, atMs: since() });
          return fn();
        },
        config as never,
      );
    const wait = async (waitName: string, duration: { seconds?: number; minutes?: number; hours?: number }) => {
      const seconds = (duration.seconds ?? 0) + (duration.minutes ?? 0) * 60 + (duration.hours ?? 0) * 3600;
      if (!waitEnds.has(waitName)) {
        waitEnds.set(waitName, Date.now() + seconds * 1000);
        emit({ kind: 'wait', execution: name, name: waitName, seconds, atMs: since() });
      }
      await ctx.wait(waitName, duration as never);
      time.advanceTo(waitEnds.get(waitName) ?? Date.now());
    };
    return new Proxy(ctx, {
      get(target, key) {
        if (key === 'step') return step;
        if (key === 'wait') return wait;
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  emit({ kind: 'start', execution: name });
  const runner = new LocalDurableTestRunner({ handlerFunction: invoke });
  let status = 'FAILED';
  let result: unknown;
  let error: string | undefined;
  let operations: string[] = [];
  try {
    const execution = await runner.run({ payload: queued.payload });
    status = String(execution.getStatus());
    operations = execution.getOperations().map((op) => `${op.getType()}:${op.getName()}`);
    if (status === 'SUCCEEDED') result = execution.getResult();
    else error = execution.getError().errorMessage ?? 'the execution failed';
  } catch (e) {
    error = (e as Error).message;
  }
  emit({ kind: 'end', execution: name, status, atMs: since() });
  return {
    name,
    functionArn: queued.functionArn,
    payload: queued.payload,
    status,
    result,
    ...(error === undefined ? {} : { error }),
    operations,
    virtualMs: since(),
    realMs: realNow() - realStart,
    invocations,
  };
}

/** The real monotonic clock, taken before the runner's fake timers replace `performance` and `hrtime`. */
const realClock = process.hrtime.bigint;
function realNow(): number {
  return Number(realClock()) / 1e6;
}

interface VirtualTime {
  /** Moves `Date.now()` forward to `epochMs` (never back). */
  advanceTo(epochMs: number): void;
  restore(): void;
}

/**
 * `Date.now()` plus an offset that only durable waits move. Installed over whatever `Date.now` is (the
 * runner's own fake timers replace `Date` while they run, and may move it themselves: never past a wait's end).
 */
function virtualTime(): VirtualTime {
  let offset = 0;
  const installed: { on: DateConstructor; now: () => number }[] = [];
  const install = (): void => {
    if (installed.at(-1)?.on === Date) return;
    const base = Date.now;
    installed.push({ on: Date, now: base });
    Date.now = () => base.call(Date) + offset;
  };
  install();
  return {
    advanceTo(epochMs) {
      install();
      const now = Date.now();
      if (epochMs > now) offset += epochMs - now;
    },
    restore() {
      for (let i = installed.pop(); i; i = installed.pop()) i.on.now = i.now;
    },
  };
}

/** Sets variables in process.env; returns what puts back the previous values. */
function setEnvironment(variables: Readonly<Record<string, string>>): () => void {
  const before = new Map(Object.keys(variables).map((k) => [k, process.env[k]] as const));
  Object.assign(process.env, variables);
  return () => {
    for (const [key, value] of before) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/**
 * Lambda's Invoke API on 127.0.0.1 for durable starts only: `POST /2015-03-31/functions/{arn}/invocations`
 * with `X-Amz-Invocation-Type: Event` and `X-Amz-Durable-Execution-Name` queues the execution on `local`
 * and answers 202; the same name again answers 202 with the same payload and 409
 * DurableExecutionAlreadyStartedException with another, as Lambda does. Anything else is a 404. Point the
 * entry function's SDK at it with AWS_ENDPOINT_URL_LAMBDA, so that the real adapter (lib/aws/durable-start.ts)
 * runs, in this process or in a child.
 */
export async function startDurableInvokeStandIn(
  local: DurableStartPort,
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const seen = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
        const name = req.headers['x-amz-durable-execution-name'];
        const error = (status: number, type: string, message: string) => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
          res.end(JSON.stringify({ __type: type, Type: 'User', message }));
        };
        if (req.method !== 'POST' || !match || typeof name !== 'string') {
          return error(404, 'ResourceNotFoundException', 'this stand-in answers durable starts only');
        }
        if (req.headers['x-amz-invocation-type'] !== 'Event') {
          return error(400, 'InvalidParameterValueException', 'durable starts are asynchronous (Event)');
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const earlier = seen.get(name);
        if (earlier !== undefined && earlier !== body) {
          return error(409, 'DurableExecutionAlreadyStartedException', `execution ${name} already started`);
        }
        seen.set(name, body);
        try {
          await local.start({
            functionArn: decodeURIComponent(match[1] as string),
            name,
            payload: body ? JSON.parse(body) : {},
          });
        } catch (e) {
          return error(400, 'InvalidParameterValueException', (e as Error).message);
        }
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
