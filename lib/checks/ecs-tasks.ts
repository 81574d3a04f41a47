import type { Clock, Observation } from '../core/types.ts';
import { join } from '../spec/fields.ts';
import { type EcsGreen, preferGreen, type ResolvedGreen, readGreen, resolveGreen } from './ecs-service.ts';
import type { CheckKind } from './kind.ts';
import { awsError, listSome, short } from './observations.ts';
import type { EcsChecksPort, RevisionState, TaskFailure, TaskState } from './ports.ts';
import { withReadBudget } from './read-budget.ts';

export interface EcsTasksSpec extends EcsGreen {
  /** Fewer running green tasks than this fails; 1 by default. */
  readonly minTasks: number;
  /** Tasks without container health checks report UNKNOWN; they fail unless this is true. */
  readonly allowUnknownHealth: boolean;
  /** Container exit codes that are not failures in a stopped task (0 always; 143 is SIGTERM on scale-in). */
  readonly allowExitCodes: readonly number[];
  /** Only tasks stopped this recently count (milliseconds); all that ECS still lists when absent. */
  readonly windowMs?: number;
}

interface RevisionMemo {
  revision?: RevisionState | undefined;
}

/** Stop codes that mean the task itself failed, whatever its exit codes. */
const failedStops = new Set(['EssentialContainerExited', 'TaskFailedToStart']);
/** ECS stops tasks that fail health checks with ServiceSchedulerInitiated: the reason says so. */
const healthCheckStop = /failed .*health checks?/i;

/** What the ecs-tasks check asks of AWS: Amazon ECS reads (lib/aws/ecs-checks.ts implements it). */
export interface EcsTasksPorts {
  readonly ecs: EcsChecksPort;
}

export const ecsTasksCheck: CheckKind<EcsTasksSpec, EcsTasksPorts> = {
  parse(raw, path, f) {
    const green = readGreen(raw, path, f);
    const minTasks = raw.minTasks === undefined ? 1 : f.integer(raw.minTasks, join(path, 'minTasks'), 0, 10_000);
    const allowUnknownHealth =
      raw.allowUnknownHealth === undefined
        ? false
        : f.boolean(raw.allowUnknownHealth, join(path, 'allowUnknownHealth'));
    let allowExitCodes: number[] | undefined = [0];
    if (raw.allowExitCodes !== undefined) {
      const list = f.array(raw.allowExitCodes, join(path, 'allowExitCodes'), 20);
      allowExitCodes = list?.map((v, i) => f.integer(v, join(join(path, 'allowExitCodes'), i), 0, 255) ?? 0);
      allowExitCodes?.push(0);
    }
    const windowMs = raw.window === undefined ? undefined : f.duration(raw.window, join(path, 'window'));
    if (!green || minTasks === undefined || allowUnknownHealth === undefined || !allowExitCodes) return undefined;
    if (raw.window !== undefined && windowMs === undefined) return undefined;
    const spec: EcsTasksSpec = { ...green, minTasks, allowUnknownHealth, allowExitCodes: [...new Set(allowExitCodes)] };
    return windowMs === undefined ? spec : { ...spec, windowMs };
  },

  prepare: preferGreen,

  create(spec, deps, path) {
    const { ecs } = deps;
    const green = resolveGreen(spec, path);
    // A service revision does not change: read once per hook, not per measurement.
    const revision: RevisionMemo = {};
    return withReadBudget(deps.clock, (signal) => measure(ecs, deps.clock, green, spec, signal, revision));
  },
};

async function measure(
  ecs: EcsChecksPort,
  clock: Clock,
  green: ResolvedGreen,
  spec: EcsTasksSpec,
  signal: AbortSignal,
  memo: RevisionMemo,
): Promise<Observation> {
  let where: string;
  let tasks: TaskState[];
  let failures: TaskFailure[];
  let truncated: boolean;
  let since = spec.windowMs === undefined ? undefined : clock.now() - spec.windowMs;
  try {
    if (green.kind === 'taskSet') {
      where = `tasks of task set ${green.taskSet}`;
      // A task set's tasks carry its id in startedBy.
      ({ tasks, failures, truncated } = await ecs.tasks({ cluster: green.cluster, startedBy: green.taskSet }, signal));
    } else {
      where = `tasks of service revision ${green.serviceRevision}`;
      memo.revision ??= await ecs.serviceRevision(green.serviceRevision, signal);
      const revision = memo.revision;
      if (!revision?.taskDefinition) {
        memo.revision = undefined;
        return { outcome: 'error', message: `${where}: revision not found` };
      }
      // ECS does not tag tasks with their revision: the service's tasks running its task definition are green.
      const all = await ecs.tasks({ cluster: green.cluster, serviceName: green.service }, signal);
      tasks = all.tasks.filter((t) => t.taskDefinitionArn === revision.taskDefinition);
      failures = all.failures;
      truncated = all.truncated;
      if (revision.createdAt !== undefined) since = Math.max(since ?? 0, revision.createdAt);
    }
  } catch (error) {
    return awsError(
      `ListTasks/DescribeTasks for ${green.kind === 'taskSet' ? green.taskSet : green.serviceRevision}`,
      error,
      signal,
    );
  }
  if (failures.length > 0) {
    const listed = failures.map(
      (x) => `${taskId(x.arn ?? '?')} (${x.reason ?? 'no reason'}${x.detail ? `: ${x.detail}` : ''})`,
    );
    return { outcome: 'error', message: `${where}: DescribeTasks failures: ${listSome(listed, 3)}` };
  }

  const stopped = tasks.filter((t) => t.desiredStatus === 'STOPPED' || t.lastStatus === 'STOPPED');
  const live = tasks.filter((t) => !stopped.includes(t));
  const problems: string[] = [];
  for (const t of stopped) {
    if (since !== undefined && t.stoppedAt !== undefined && t.stoppedAt < since) continue;
    const why = stopProblem(t, spec.allowExitCodes);
    if (why) problems.push(`${taskId(t.arn)} stopped: ${why}`);
  }
  let healthy = 0;
  for (const t of live) {
    if (t.lastStatus !== 'RUNNING') {
      problems.push(`${taskId(t.arn)} is ${t.lastStatus ?? 'in no status'}`);
      continue;
    }
    const health = taskHealth(t);
    if (health === 'HEALTHY' || (health === 'UNKNOWN' && spec.allowUnknownHealth)) healthy++;
    else
      problems.push(
        `${taskId(t.arn)} is ${health}${health === 'UNKNOWN' ? ' (no container health check result; allowUnknownHealth is off)' : ''}`,
      );
  }
  const summary = `${healthy} of ${live.length} running tasks healthy, ${stopped.length} stopped${truncated ? ' (of the first tasks ECS listed only)' : ''}`;
  if (problems.length > 0) {
    return { outcome: 'fail', message: `${where}: ${summary}: ${listSome(problems, 3)}`, value: healthy };
  }
  if (healthy < spec.minTasks) {
    return { outcome: 'fail', message: `${where}: ${summary}: fewer than minTasks ${spec.minTasks}`, value: healthy };
  }
  return { outcome: 'pass', message: `${where}: ${summary}`, value: healthy };
}

/** Why a stopped task counts as a failure, or `undefined` when it was stopped on purpose and exited cleanly. */
function stopProblem(t: TaskState, allowExitCodes: readonly number[]): string | undefined {
  const reason = t.stoppedReason ? ` (${short(t.stoppedReason, 100)})` : '';
  if (t.stopCode && failedStops.has(t.stopCode)) return `${t.stopCode}${reason}`;
  if (t.stoppedReason && healthCheckStop.test(t.stoppedReason)) return short(t.stoppedReason, 100);
  const exited = t.containers.find((c) => c.exitCode !== undefined && !allowExitCodes.includes(c.exitCode));
  if (exited) return `container ${exited.name} exited with ${exited.exitCode}${reason}`;
  return undefined;
}

/** The task's own health, or (when ECS leaves it out) the worst of its containers'. */
function taskHealth(t: TaskState): string {
  if (t.healthStatus) return t.healthStatus;
  const states = t.containers.map((c) => c.healthStatus ?? 'UNKNOWN');
  if (states.includes('UNHEALTHY')) return 'UNHEALTHY';
  if (states.length > 0 && states.every((s) => s === 'HEALTHY')) return 'HEALTHY';
  return 'UNKNOWN';
}

function taskId(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1) || arn;
}
