import type { CodeDeployDeployment, CodeDeployPort, CodeDeployTarget, HookStatus } from '../../aws/codedeploy.ts';
import type { ListenerPort } from '../../aws/elbv2.ts';
import type { TaskDefinitionPort } from '../../aws/task-definitions.ts';
import type { TaskSetOriginPort } from '../../aws/task-sets.ts';
import { usedPlaceholders } from '../../checks/build-runs.ts';
import type { Clock } from '../../core/types.ts';
import { deliver } from '../../gate/deliver.ts';
import { GateEventError } from '../../gate/errors.ts';
import { eventObject } from '../../gate/event.ts';
import { deploymentGroup } from '../../gate/observe.ts';
import type { Outcome, Trigger } from '../../gate/trigger.ts';
import { codeDeployRoute } from '../../plan/route.ts';
import { checksForHook, type Plan } from '../../plan/schema.ts';
import { codeDeployHookLimitMs } from '../../plan/trigger-limits.ts';
import type { Log } from '../../runtime/logger.ts';
import { codeDeployHooks } from '../../spec/hooks.ts';
import { resolveCodeDeployContext } from './context.ts';

/** The CodeDeploy hook event: `{DeploymentId, LifecycleEventHookExecutionId}`; other keys are ignored. */
export interface HookIds {
  readonly deploymentId: string;
  readonly executionId: string;
}

export interface CodeDeployHookPorts {
  readonly codedeploy: CodeDeployPort;
  readonly listeners: ListenerPort;
  /** ECS DescribeTaskSets: tells green from blue when CodeDeploy omits the task set labels. */
  readonly taskSets: TaskSetOriginPort;
  /** ECS DescribeTaskDefinition: {{greenTaskDefinition}} and {{greenImage}}. */
  readonly taskDefinitions?: TaskDefinitionPort;
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: {
    /** GREENLIGHT_HOOK: pins the hook instead of reading it from the deployment target. */
    readonly hook?: string | undefined;
    readonly region?: string | undefined;
  };
}

export interface HookOutcome {
  readonly deploymentId: string;
  readonly hook?: string;
  /** What was reported; absent when the analysis went on in a durable execution, which reports it. */
  readonly status?: HookStatus;
  /** `analysis-started`: a durable execution analyses and reports (one per hook, whatever the deliveries). */
  readonly delivery: 'reported' | 'already-completed' | 'analysis-started';
  readonly reasons: readonly string[];
}

/** What the hook's own reads found: the deployment, its target, the hook that is running, the plan. */
interface OpenHook {
  readonly deployment: CodeDeployDeployment;
  readonly target: CodeDeployTarget | undefined;
  readonly hook: string;
  /** Epoch ms the hook began, when CodeDeploy says: its hour counts from it. */
  readonly startedAt?: number;
  /** Read alongside the deployment; its failure is thrown by `checks`, after the rollback test. */
  readonly plan: PromiseSettledResult<Plan>;
}

type Delivered = Pick<HookOutcome, 'status' | 'delivery' | 'hook'>;
type Input = HookIds & { readonly problems: readonly string[] };

const idPattern = /^[A-Za-z0-9_-]{1,128}$/;
const deploymentIdPattern = /^d-[A-Z0-9]{9}$/;
const rollbackCreators = new Set(['autoRollback', 'codeDeployRollback']);

/** Reads the ids; `problems` lists what is off about an event whose ids could still be read. */
export function readHookIds(event: unknown): Input {
  const record = eventObject(event, 64 * 1024);
  if (!record) {
    throw new GateEventError('malformed event: expected an object with DeploymentId and LifecycleEventHookExecutionId');
  }
  const deploymentId = record.DeploymentId;
  const executionId = record.LifecycleEventHookExecutionId;
  if (
    typeof deploymentId !== 'string' ||
    typeof executionId !== 'string' ||
    !idPattern.test(deploymentId) ||
    !idPattern.test(executionId)
  ) {
    throw new GateEventError('malformed event: DeploymentId and LifecycleEventHookExecutionId must be present as ids');
  }
  const problems: string[] = [];
  if (!deploymentIdPattern.test(deploymentId))
    problems.push('malformed event: DeploymentId is not of the form d-XXXXXXXXX');
  return { deploymentId, executionId, problems };
}

/**
 * The CodeDeploy lifecycle hook (ECS and Lambda platforms): the hook that is InProgress on the
 * deployment target (or GREENLIGHT_HOOK) picks the plan's checks; the verdict is reported with
 * `PutLifecycleEventHookExecutionStatus` Succeeded or Failed, exactly once. CodeDeploy waits up to an
 * hour from the hook's start: a schedule that fits this invocation runs here, a longer one in a durable
 * execution named after the hook execution (lib/gate/durable.ts). An event without hook ids fails the
 * invocation: there is nobody to report to.
 */
export function codeDeployHookTrigger(ports: CodeDeployHookPorts): Trigger<Input, OpenHook, Delivered, HookOutcome> {
  const { codedeploy, clock, log } = ports;
  return {
    name: 'codedeploy-hook',
    read: readHookIds,
    scope: (ids) => ({ logKeys: { deploymentId: ids.deploymentId }, scope: { deploymentId: ids.deploymentId } }),

    async open(ids, run) {
      if (ids.problems.length > 0) return { kind: 'refused', reason: ids.problems.join('; ') };
      // Independent reads, in parallel: each round trip is time the verdict waits for. Failures are
      // reported in this order, as if read one after the other.
      const [deploymentRead, targetsRead] = await Promise.allSettled([
        codedeploy.getDeployment(ids.deploymentId, run.signal),
        codedeploy.listDeploymentTargets(ids.deploymentId, run.signal),
      ]);
      const deployment = settled(deploymentRead);
      run.scope.group = deploymentGroup(deployment);
      const targetIds = settled(targetsRead);
      const target =
        targetIds[0] === undefined
          ? undefined
          : await codedeploy.getDeploymentTarget(ids.deploymentId, targetIds[0], run.signal);
      // The plan is routed on the deployment (lib/plan/route.ts). An unreadable or missing plan fails the
      // verdict only once the deployment is known not to be a rollback (`checks`).
      const [planRead] = await Promise.allSettled([run.loadPlan(run.signal, codeDeployRoute(deployment, target))]);
      const hook = ports.settings.hook?.trim() || hookInProgress(target);
      if (!hook) {
        return {
          kind: 'refused',
          reason:
            'cannot tell which lifecycle hook is running: no hook is InProgress on the deployment target; set GREENLIGHT_HOOK to pin it',
        };
      }
      run.scope.stage = hook;
      log.appendKeys({ hook });
      const startedAt = target?.lifecycleEvents.find((e) => e.name === hook)?.startTime;
      return {
        kind: 'open',
        hook: { deployment, target, hook, plan: planRead, ...(startedAt === undefined ? {} : { startedAt }) },
      };
    },

    rollback: async (_ids, { deployment }) =>
      rollbackCreators.has(deployment.creator ?? '') ? 'rollback deployment: not blocked' : undefined,

    checks: async (_ids, open) => checksForHook(settled(open.plan), open.hook),

    context: (_ids, open, selected, run) =>
      resolveCodeDeployContext(
        {
          listeners: ports.listeners,
          taskSets: ports.taskSets,
          taskDefinitions: ports.taskDefinitions,
          region: ports.settings.region,
        },
        {
          deployment: open.deployment,
          target: open.target,
          hook: open.hook,
          needed: usedPlaceholders(selected.checks),
        },
        run.signal,
      ),

    // CodeDeploy waits an hour for the hook: a schedule longer than this invocation runs on a durable execution.
    state: {
      kind: 'durable',
      limits: 'codedeploy-hook',
      executionKey: (ids) => `${ids.deploymentId}/${ids.executionId}`,
      startEvent: (ids) => ({ DeploymentId: ids.deploymentId, LifecycleEventHookExecutionId: ids.executionId }),
      // A start CodeDeploy does not give is taken as now: the first reading of the hook, an upper bound.
      hookDeadline: async (_ids, open) => Math.min(open.startedAt ?? clock.now(), clock.now()) + codeDeployHookLimitMs,
      keep: ({ plan: _plan, ...kept }) => kept,
      restore: (kept) => ({
        ...(kept as Omit<OpenHook, 'plan'>),
        plan: { status: 'rejected', reason: new Error('the plan was read in the first step') },
      }),
    },

    async deliver(verdict, { input, hook }, _run, by) {
      const status: HookStatus = verdict.status === 'pass' ? 'Succeeded' : 'Failed';
      const delivery = await deliver(
        (signal) =>
          codedeploy.putLifecycleEventHookStatus(
            { deploymentId: input.deploymentId, executionId: input.executionId, status },
            signal,
          ),
        by,
        clock,
      );
      if (delivery === 'already-completed') {
        log.warn('hook status was already reported: duplicate delivery, nothing to do', { status });
      } else {
        log.info('reported hook status', { status });
      }
      return {
        kind: 'delivered',
        decision: status,
        delivery,
        detail: { status, delivery, ...(hook === undefined ? {} : { hook: hook.hook }) },
      };
    },

    answer: (outcome) => hookOutcome(outcome),
  };
}

/** Every invocation that reaches an answer has reported, or started the durable execution that will. */
function hookOutcome(outcome: Outcome<Input, Delivered>): HookOutcome {
  if (outcome.kind === 'handed-on') {
    return {
      deploymentId: outcome.input.deploymentId,
      delivery: 'analysis-started',
      reasons: outcome.reasons,
    };
  }
  if (outcome.kind !== 'decided') {
    throw new Error(`a CodeDeploy hook always reports; got ${outcome.kind}`);
  }
  return {
    deploymentId: outcome.input.deploymentId,
    ...outcome.delivery.detail,
    reasons: outcome.verdict.reasons,
  };
}

function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

function hookInProgress(target: CodeDeployTarget | undefined): string | undefined {
  const known: readonly string[] = codeDeployHooks;
  return target?.lifecycleEvents.find((e) => e.status === 'InProgress' && known.includes(e.name))?.name;
}
