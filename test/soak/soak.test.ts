import type { IncomingMessage, ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lifecycleHookEvent } from '../../local/fakes/ecs.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { type HttpTarget, startHttpTarget } from '../support/http-target.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { loopbackOnly, type Tripwire } from '../support/loopback-only.ts';

/**
 * A seeded, randomized soak of four functions at once (CodeDeploy hook, ECS lifecycle hook, PAUSE gate,
 * CodeDeploy wait gate), through their real handlers and the real SDK against the loopback fakes. Each
 * invocation draws a green behaviour (healthy, slow, 503s, hangs, resets, drips, non-JSON, huge bodies,
 * redirects to refused or dead addresses), a Lambda deadline from tight to comfortable, maybe AWS faults
 * (reports and reads throttled or failing) and maybe a duplicate delivered at the same moment. Then the
 * invariants: every invocation answers exactly once, before its deadline; every deployment gets exactly
 * one delivered verdict; no pass where green was unhealthy, and none without green measured; no unhandled
 * rejection; heap bounded; no connection leaves loopback.
 *
 * SOAK_SEED and SOAK_INVOCATIONS change the run (CI uses the defaults); the seed and counts are printed.
 */

const seed = Number(process.env.SOAK_SEED ?? 20261121) >>> 0;
const target = Number(process.env.SOAK_INVOCATIONS ?? 1_000);
const batchSize = 12;
const timeBudgetMs = Number(process.env.SOAK_BUDGET_MS ?? 100_000);

type Behaviour =
  | 'ok'
  | 'slow'
  | 'always-503'
  | 'intermittent-503'
  | 'hang'
  | 'reset'
  | 'drip'
  | 'not-json'
  | 'huge'
  | 'redirect-metadata'
  | 'redirect-dead-port';

const behaviours: readonly [Behaviour, number][] = [
  ['ok', 40],
  ['slow', 10],
  ['always-503', 6],
  ['intermittent-503', 6],
  ['hang', 5],
  ['reset', 5],
  ['drip', 5],
  ['not-json', 5],
  ['huge', 4],
  ['redirect-metadata', 4],
  ['redirect-dead-port', 4],
];
const healthy = new Set<Behaviour>(['ok', 'slow']);

type Kind = 'codedeploy-hook' | 'ecs-lifecycle-hook' | 'ecs-pause-gate' | 'codedeploy-wait-gate';
const kinds: readonly [Kind, number][] = [
  ['codedeploy-hook', 35],
  ['ecs-lifecycle-hook', 25],
  ['ecs-pause-gate', 20],
  ['codedeploy-wait-gate', 20],
];
/** Lambda deadlines, tight to comfortable (ms). */
const deadlines: readonly [number, number][] = [
  [700, 25],
  [1_200, 35],
  [2_500, 40],
];

const plan = `
version: 1
hooks:
  "*": [green]
checks:
  green:
    type: http
    url: "{{testListenerUrl}}/soak/{{service}}"
    followRedirects: 2
    expect:
      status: [200]
      json: { ok: true }
    count: 2
    interval: 20ms
    timeout: 250ms
`;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function rng(s: number): () => number {
  let a = s;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

let h: Harness;
let analyse: typeof import('../../functions/durable-analysis/index.ts')['analyse'];
let dead: HttpTarget;
let tripwire: Tripwire;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

/** What green does for each service (one service per deployment, named in the probe's path). */
const greenOf = new Map<string, Behaviour>();
const hitsOf = new Map<string, number>();

function serve(req: IncomingMessage, res: ServerResponse): void {
  const service = /^\/soak\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '';
  hitsOf.set(service, (hitsOf.get(service) ?? 0) + 1);
  const json = (status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
  const n = hitsOf.get(service) ?? 0;
  switch (greenOf.get(service) ?? 'always-503') {
    case 'ok':
      json(200, '{"ok":true}');
      return;
    case 'slow': {
      const t = setTimeout(() => json(200, '{"ok":true}'), 40);
      res.on('close', () => clearTimeout(t));
      return;
    }
    case 'always-503':
      json(503, '{"ok":false}');
      return;
    case 'intermittent-503':
      // The first answer fails: with two measurements and failureLimit 0, never a pass.
      json(n % 2 === 1 ? 503 : 200, '{"ok":true}');
      return;
    case 'hang':
      return;
    case 'reset':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ok":');
      setTimeout(() => req.socket.destroy(), 5);
      return;
    case 'drip': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(t));
      return;
    }
    case 'not-json':
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>ok</html>');
      return;
    case 'huge': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < 4 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end('{"ok":true}');
      };
      pump();
      return;
    }
    case 'redirect-metadata':
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' });
      res.end();
      return;
    case 'redirect-dead-port': {
      const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
      res.writeHead(302, { location: `http://${host}:${dead.port}/gone` });
      res.end();
      return;
    }
  }
}

interface Counts {
  invocations: number;
  verdicts: number;
  passes: number;
  failures: number;
  duplicates: number;
  tightDeadlines: number;
  deadlineVerdicts: number;
  continuations: number;
  durableExecutions: number;
  noOps: number;
  refusedProbes: number;
  awsFaultBatches: number;
  byKind: Record<string, number>;
  byBehaviour: Record<string, number>;
}

/** One deployment of the run, and what came of it. */
interface Case {
  readonly kind: Kind;
  readonly service: string;
  readonly behaviour: Behaviour;
  /** Set once the whole case has ended: whether the delivered verdict (as AWS recorded it) is a pass. */
  passed?: boolean;
  delivered?: boolean;
}

beforeAll(async () => {
  setFlagsFromString('--expose-gc');
  process.on('unhandledRejection', onUnhandled);
  h = await startHarness('gl-soak', {
    GREENLIGHT_DURABLE_FUNCTION: 'arn:aws:lambda:us-east-1:123456789012:function:greenlight-durable-analysis:live',
  });
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
  ({ analyse } = await import('../../functions/durable-analysis/index.ts'));
  dead = await startHttpTarget();
  await dead.close();
  h.green.respond(serve);
  process.env.GREENLIGHT_PLAN = plan;
  process.env.GREENLIGHT_REPORT_RESERVE = '400ms';
  tripwire = loopbackOnly();
}, 60_000);

afterAll(async () => {
  await LocalDurableTestRunner.teardownTestEnvironment();
  tripwire?.restore();
  process.off('unhandledRejection', onUnhandled);
  await h?.close();
});

describe('randomized soak', () => {
  it(
    `keeps its promises over ${target} invocations (seed ${seed})`,
    async () => {
      const random = rng(seed);
      const pick = <T>(table: readonly [T, number][]): T => {
        const total = table.reduce((s, [, w]) => s + w, 0);
        let r = random() * total;
        for (const [v, w] of table) {
          r -= w;
          if (r < 0) return v;
        }
        return (table.at(-1) as [T, number])[0];
      };
      const gc = runInNewContext('gc') as () => void;
      const counts: Counts = {
        invocations: 0,
        verdicts: 0,
        passes: 0,
        failures: 0,
        duplicates: 0,
        tightDeadlines: 0,
        deadlineVerdicts: 0,
        continuations: 0,
        durableExecutions: 0,
        noOps: 0,
        refusedProbes: 0,
        awsFaultBatches: 0,
        byKind: {},
        byBehaviour: {},
      };
      const problems: string[] = [];
      const cases: Case[] = [];
      let serial = 0;
      let heapAtWarmup = 0;
      const started = Date.now();

      /** Runs one invocation with a fresh context; records whether it answered before its deadline. */
      const invoke = async <T>(
        name: string,
        ms: number,
        call: (ctx: ReturnType<typeof lambdaContext>) => Promise<T>,
      ) => {
        counts.invocations++;
        if (ms < 1_000) counts.tightDeadlines++;
        const ctx = lambdaContext(ms, name);
        let settled = 0;
        try {
          const out = await call(ctx);
          settled++;
          return out;
        } catch (error) {
          settled++;
          // A ReportError is the loud failure when the verdict could not be delivered: none is expected here.
          problems.push(`${name}: threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
          return undefined;
        } finally {
          if (settled !== 1) problems.push(`${name}: settled ${settled} times`);
          if (ctx.getRemainingTimeInMillis() <= 0) problems.push(`${name}: answered after its deadline (${ms} ms)`);
        }
      };

      const reasonsSay = (reasons: readonly string[] | undefined): void => {
        const text = (reasons ?? []).join('\n');
        if (/deadline reached/.test(text)) counts.deadlineVerdicts++;
        if (/refused/.test(text)) counts.refusedProbes++;
      };

      const runCase = async (c: Case, ms: number, duplicate: boolean): Promise<void> => {
        const times = duplicate ? 2 : 1;
        if (duplicate) counts.duplicates++;
        if (c.kind === 'codedeploy-hook') {
          const id = h.codeDeployDeployment({ service: c.service });
          const event = { DeploymentId: id, LifecycleEventHookExecutionId: `exec-${id}` };
          const outs = await Promise.all(
            Array.from({ length: times }, () => invoke(c.kind, ms, (ctx) => h.handlers.codedeployHook(event, ctx))),
          );
          for (const o of outs) reasonsSay(o?.reasons);
          counts.noOps += outs.filter((o) => o?.delivery === 'already-completed').length;
          // Read once the durable executions have run (a long schedule reports from there).
          (c as { deploymentId?: string }).deploymentId = id;
        } else if (c.kind === 'ecs-lifecycle-hook') {
          const first = lifecycleHookEvent(h.nativeDeployment({ service: c.service }), 'POST_TEST_TRAFFIC_SHIFT');
          const finals = await Promise.all(
            Array.from({ length: times }, async () => {
              let event: Record<string, unknown> = first;
              for (let leg = 0; leg < 20; leg++) {
                const out = await invoke(c.kind, ms, (ctx) => h.handlers.ecsLifecycleHook(event, ctx));
                if (!out) return undefined;
                const result = out.hookDetails?.greenlightResult as { reasons?: string[] } | undefined;
                reasonsSay(result?.reasons);
                if (out.hookStatus !== 'IN_PROGRESS') return out.hookStatus;
                counts.continuations++;
                event = { ...first, hookDetails: out.hookDetails };
              }
              problems.push(`${c.service}: still IN_PROGRESS after 20 invocations`);
              return undefined;
            }),
          );
          c.delivered = finals.every((f) => f === 'SUCCEEDED' || f === 'FAILED');
          c.passed = finals.includes('SUCCEEDED');
        } else if (c.kind === 'ecs-pause-gate') {
          const d = h.nativeDeployment({ service: c.service });
          const { hookId, event } = h.ecs.addPauseHook(d.serviceDeploymentArn, {
            lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
          });
          const outs = await Promise.all(
            Array.from({ length: times }, () => invoke(c.kind, ms, (ctx) => h.handlers.ecsPauseGate(event, ctx))),
          );
          for (const o of outs) reasonsSay(o?.reasons);
          counts.noOps += outs.filter((o) => o?.outcome === 'no-op').length;
          (c as { hookId?: string }).hookId = hookId;
        } else {
          const id = h.codeDeployDeployment({ service: c.service, readyWaitMinutes: 60 });
          h.codedeploy.becomeReady(id);
          const sample = {
            'detail-type': 'CodeDeploy Deployment State-change Notification',
            source: 'aws.codedeploy',
            time: new Date().toISOString(),
            detail: { deploymentId: id, state: 'READY' },
          };
          const outs = await Promise.all(
            Array.from({ length: times }, () =>
              invoke(c.kind, ms, (ctx) => h.handlers.codedeployWaitGate(sample, ctx)),
            ),
          );
          for (const o of outs) reasonsSay(o?.reasons);
          counts.noOps += outs.filter((o) => o?.result === 'not-waiting' || o?.result === 'not-ready').length;
          (c as { deploymentId?: string }).deploymentId = id;
        }
      };

      /** Runs the durable executions the entry functions started (long PAUSE and wait analyses), as Lambda would. */
      const drain = async (): Promise<void> => {
        const queued = h.lambda.take();
        await Promise.all(
          queued.map(async (q) => {
            counts.durableExecutions++;
            if (!q.durableExecutionName) problems.push('an asynchronous invocation that starts no durable execution');
            const runner = new LocalDurableTestRunner({ handlerFunction: withDurableExecution(analyse) });
            const execution = await runner.run({ payload: q.payload });
            const result = execution.getResult() as { reasons?: string[] } | undefined;
            reasonsSay(result?.reasons);
          }),
        );
      };

      while (counts.invocations < target) {
        if (Date.now() - started > timeBudgetMs) {
          problems.push(`time budget of ${timeBudgetMs} ms spent after ${counts.invocations} invocations`);
          break;
        }
        // Some batches run with AWS faults: reports and reads failing for a while. Their deadlines are
        // comfortable, so the retries have room; faults hit whichever invocation of the batch calls first.
        const faulty = random() < 0.15;
        const batch: { c: Case; ms: number; duplicate: boolean }[] = [];
        for (let i = 0; i < batchSize; i++) {
          serial++;
          const c: Case = {
            kind: pick(kinds),
            service: `soak-${seed.toString(36)}-${serial}`,
            behaviour: pick(behaviours),
          };
          greenOf.set(c.service, c.behaviour);
          counts.byKind[c.kind] = (counts.byKind[c.kind] ?? 0) + 1;
          counts.byBehaviour[c.behaviour] = (counts.byBehaviour[c.behaviour] ?? 0) + 1;
          batch.push({ c, ms: faulty ? 3_000 : pick(deadlines), duplicate: random() < 0.12 });
          cases.push(c);
        }
        if (faulty) {
          counts.awsFaultBatches++;
          const internal = { type: 'InternalFailure', message: 'soak fault', status: 500 };
          const times = 1 + Math.floor(random() * 2);
          h.codedeploy.failNext('PutLifecycleEventHookExecutionStatus', internal, times);
          h.codedeploy.failNext('ContinueDeployment', internal, times);
          h.ecs.failNext('ContinueServiceDeployment', { ...internal, type: 'ServerException' }, times);
          if (random() < 0.5) {
            h.codedeploy.failNext('GetDeployment', { type: 'ThrottlingException', message: 'Rate exceeded' }, 3);
            h.ecs.failNext('DescribeServiceRevisions', { type: 'ThrottlingException', message: 'Rate exceeded' }, 3);
          }
        }
        await Promise.all(batch.map(({ c, ms, duplicate }) => runCase(c, ms, duplicate)));
        await drain();
        h.codedeploy.clearFaults();
        h.ecs.clearFaults();
        if (heapAtWarmup === 0 && counts.invocations >= 100) {
          gc();
          heapAtWarmup = process.memoryUsage().heapUsed;
        }
      }

      // Verdicts as AWS recorded them, once every durable execution has run.
      for (const c of cases) {
        if (c.kind === 'codedeploy-hook') {
          const id = (c as { deploymentId?: string }).deploymentId ?? '';
          const accepted = h.codedeploy
            .callsOf('PutLifecycleEventHookExecutionStatus')
            .filter((call) => call.input.lifecycleEventHookExecutionId === `exec-${id}`);
          const status = h.codedeploy.hookStatuses.get(`exec-${id}`);
          c.delivered = status !== undefined;
          c.passed = status === 'Succeeded';
          if (accepted.length === 0) problems.push(`${id}: no report at all`);
        } else if (c.kind === 'ecs-pause-gate') {
          const decision = h.ecs.decisions.get((c as { hookId?: string }).hookId ?? '');
          c.delivered = decision !== undefined;
          c.passed = decision?.action === 'CONTINUE';
        } else if (c.kind === 'codedeploy-wait-gate') {
          const id = (c as { deploymentId?: string }).deploymentId ?? '';
          const status = h.codedeploy.deployment(id)?.deploymentInfo.status;
          const continued = h.codedeploy.callsOf('ContinueDeployment').some((x) => x.input.deploymentId === id);
          const stopped = h.codedeploy.callsOf('StopDeployment').some((x) => x.input.deploymentId === id);
          c.delivered = status === 'InProgress' || status === 'Stopped';
          c.passed = status === 'InProgress';
          if (continued && stopped) problems.push(`${id}: both continued and stopped`);
        }
        if (c.delivered) counts.verdicts++;
        else problems.push(`${c.kind} ${c.service}: no verdict delivered`);
        if (c.passed) counts.passes++;
        else counts.failures++;
        if (c.passed && !healthy.has(c.behaviour))
          problems.push(`${c.kind} ${c.service}: PASS with green ${c.behaviour}`);
        if (c.passed && (hitsOf.get(c.service) ?? 0) < 2) {
          problems.push(`${c.kind} ${c.service}: PASS with ${hitsOf.get(c.service) ?? 0} probes of green`);
        }
      }

      gc();
      const heapGrowthMiB = Math.round((process.memoryUsage().heapUsed - heapAtWarmup) / 1024 / 1024);
      const elapsedMs = Date.now() - started;
      console.log(
        `soak: ${JSON.stringify({ seed, elapsedMs, heapGrowthMiB, unhandled: unhandled.length, blocked: tripwire.blocked.length, ...counts })}`,
      );

      expect(problems).toEqual([]);
      expect(counts.invocations).toBeGreaterThanOrEqual(target);
      expect(counts.verdicts).toBe(cases.length);
      // The draw covered what it is meant to: passes and failures, duplicates, tight deadlines, AWS faults.
      expect(counts.passes).toBeGreaterThan(0);
      expect(counts.failures).toBeGreaterThan(0);
      expect(counts.duplicates).toBeGreaterThan(0);
      expect(counts.tightDeadlines).toBeGreaterThan(0);
      expect(counts.refusedProbes).toBeGreaterThan(0);
      expect(unhandled).toEqual([]);
      expect(tripwire.blocked).toEqual([]);
      expect(heapGrowthMiB).toBeLessThan(64);
    },
    timeBudgetMs + 60_000,
  );
});
