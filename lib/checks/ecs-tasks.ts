import type { Clock, Observation } from '../core/types.ts';
import { ThrottledError } from '../spec/errors.ts';
import { join } from '../spec/fields.ts';
import { type EcsGreen, preferGreen, type ResolvedGreen, readGreen, resolveGreen } from './ecs-service.ts';
import type { CheckKind } from './kind.ts';
import { awsError, listSome, short } from './observations.ts';
import type { EcsChecksPort, RevisionState, TaskFailure, TaskQuery, TaskState } from './ports.ts';
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

/**
 * What one hook has read of its tasks, carried from measurement to measurement: facts that do not change
 * (the service revision, the task definitions' health check intervals) and the last readings of signals that
 * change no faster than AWS says (task health, stopped tasks).
 */
interface TasksMemo {
  revision?: RevisionState | undefined;
  running?: RunningReading | undefined;
  stopped?: StoppedReading | undefined;
  /** Milliseconds between two container health checks, by task definition ARN. */
  readonly healthFloors: Map<string, number>;
}

/** The running tasks as DescribeTasks last showed them. */
interface RunningReading {
  /** The ARNs ListTasks (desiredStatus RUNNING) gave when they were described. */
  readonly arns: ReadonlySet<string>;
  readonly tasks: readonly TaskState[];
  readonly truncated: boolean;
  /** Epoch milliseconds. */
  readonly at: number;
  /** How long the reading stands for the tasks' health (0: read again at the next measurement), and why. */
  readonly floorMs: number;
  readonly floorWhy: string;
}

/** The stopped tasks as ListTasks (desiredStatus STOPPED) and DescribeTasks last showed them. */
interface StoppedReading {
  readonly tasks: readonly TaskState[];
  readonly truncated: boolean;
  /** The ARNs ListTasks (desiredStatus RUNNING) gave when the stopped tasks were listed. */
  readonly runningArns: ReadonlySet<string>;
  /** Epoch milliseconds. */
  readonly at: number;
}

/**
 * Stopped tasks are listed again at least this often, even when the running list did not change: a task can
 * start and stop between two measurements (a replacement that fails to start).
 */
export const stoppedListFloorMs = 60_000;
/** Without a container health check a task's health stays UNKNOWN: its reading is read again this often. */
export const noHealthCheckFloorMs = 60_000;

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
    const memo: TasksMemo = { healthFloors: new Map() };
    return withReadBudget(deps.clock, (signal, at) =>
      measure(ecs, deps.clock, green, spec, signal, memo, at?.final === true),
    );
  },
};

/**
 * One measurement. ListTasks (desiredStatus RUNNING) every time: it is the cheap detector of change (a task
 * that stops leaves it, a replacement joins it under a new ARN). The running tasks are described again only
 * when that list changed, or when the last description is older than the tasks' container health check
 * interval (ECS cannot change a task's health faster); stopped tasks are listed at the first measurement,
 * when the running list changed, while one is still stopping, and at least every 60 s.
 */
async function measure(
  ecs: EcsChecksPort,
  clock: Clock,
  green: ResolvedGreen,
  spec: EcsTasksSpec,
  signal: AbortSignal,
  memo: TasksMemo,
  /** A pass now may complete the check (`MeasureAt.final`): nothing is reused, a health check may have run since. */
  final: boolean,
): Promise<Observation> {
  const now = clock.now();
  let where: string;
  let query: TaskQuery;
  let isGreen: (t: TaskState) => boolean;
  let since = spec.windowMs === undefined ? undefined : now - spec.windowMs;
  let running: RunningReading;
  let stopped: StoppedReading;
  const notes: string[] = [];
  try {
    if (green.kind === 'taskSet') {
      where = `tasks of task set ${green.taskSet}`;
      // A task set's tasks carry its id in startedBy.
      query = { cluster: green.cluster, startedBy: green.taskSet };
      isGreen = () => true;
    } else {
      where = `tasks of service revision ${green.serviceRevision}`;
      // A service revision does not change: read once per hook, not per measurement.
      memo.revision ??= await ecs.serviceRevision(green.serviceRevision, signal);
      const revision = memo.revision;
      if (!revision?.taskDefinition) {
        memo.revision = undefined;
        return { outcome: 'error', message: `${where}: revision not found` };
      }
      // ECS does not tag tasks with their revision: the service's tasks running its task definition are green.
      query = { cluster: green.cluster, serviceName: green.service };
      isGreen = (t) => t.taskDefinitionArn === revision.taskDefinition;
      if (revision.createdAt !== undefined) since = Math.max(since ?? 0, revision.createdAt);
    }
    const listed = await ecs.taskArns({ ...query, desiredStatus: 'RUNNING' }, signal);
    const last = memo.running;
    const differs = (arns: ReadonlySet<string>) =>
      arns.size !== listed.arns.length || listed.arns.some((a) => !arns.has(a));
    const changed = !last || differs(last.arns);

    // Each reading is judged against the running list it was taken with, and kept as soon as it is read:
    // a measurement AWS throttled halfway (stopped tasks read, running ones not) is taken again from there.
    const lastStopped = memo.stopped;
    const listStopped =
      !lastStopped ||
      differs(lastStopped.runningArns) ||
      final ||
      now - lastStopped.at >= stoppedListFloorMs ||
      lastStopped.tasks.some((t) => t.lastStatus !== 'STOPPED');
    // Not `>=`: a floor that is not a number must mean "describe again", never "never".
    const describeRunning = !last || changed || final || !(now - last.at < last.floorMs);
    if (describeRunning) memo.running = undefined;
    // The stopped tasks and the running ones are read side by side: a measurement that needs both (the
    // first, or after a change) waits for the longer chain of reads, not their sum.
    const [stoppedRead, runningRead] = await Promise.all([
      listStopped
        ? readStopped(ecs, query, lastStopped, signal).then((read) => {
            if (!('failed' in read)) memo.stopped = { ...read, runningArns: new Set(listed.arns), at: now };
            return read;
          })
        : undefined,
      describeRunning
        ? (async () => {
            const described =
              listed.arns.length > 0
                ? await ecs.describeTasks(query.cluster, listed.arns, signal)
                : { tasks: [], failures: [] };
            if (described.failures.length > 0) return { failed: described.failures };
            const floor = await healthFloor(ecs, described.tasks.filter(isGreen), memo, signal);
            const reading: RunningReading = {
              arns: new Set(listed.arns),
              tasks: described.tasks,
              truncated: listed.truncated,
              at: now,
              floorMs: floor.ms,
              floorWhy: floor.why,
            };
            memo.running = reading;
            return { reading };
          })()
        : undefined,
    ]);

    if (stoppedRead === undefined) {
      stopped = lastStopped as StoppedReading;
      notes.push(
        `stopped tasks as listed ${ago(now, stopped.at)}: no task left the running list since, listed again every ${stoppedListFloorMs / 1000} s`,
      );
    } else {
      if ('failed' in stoppedRead) return failuresError(where, stoppedRead.failed);
      stopped = memo.stopped as StoppedReading;
    }

    if (runningRead === undefined) {
      running = last as RunningReading;
      notes.unshift(
        `running tasks as described ${ago(now, running.at)}: none started or stopped since, and ${running.floorWhy}`,
      );
    } else {
      if ('failed' in runningRead) return failuresError(where, runningRead.failed);
      running = runningRead.reading;
    }
  } catch (error) {
    return awsError(
      `ListTasks/DescribeTasks for ${green.kind === 'taskSet' ? green.taskSet : green.serviceRevision}`,
      error,
      signal,
    );
  }
  // A task described as running may have stopped since ListTasks listed it: judged as stopped, once.
  const seen = new Set<string>();
  const tasks = [...running.tasks, ...stopped.tasks].filter((t) => {
    if (seen.has(t.arn)) return false;
    seen.add(t.arn);
    return isGreen(t);
  });
  const observation = judge(tasks, since, spec, where, running.truncated || stopped.truncated);
  return notes.length === 0 ? observation : { ...observation, message: `${observation.message} (${notes.join('; ')})` };
}

/** Lists the stopped tasks and describes those not yet seen stopped for good (a stopped task does not change). */
async function readStopped(
  ecs: EcsChecksPort,
  query: TaskQuery,
  last: StoppedReading | undefined,
  signal: AbortSignal,
): Promise<{ tasks: TaskState[]; truncated: boolean } | { failed: TaskFailure[] }> {
  const listed = await ecs.taskArns({ ...query, desiredStatus: 'STOPPED' }, signal);
  const known = new Map((last?.tasks ?? []).filter((t) => t.lastStatus === 'STOPPED').map((t) => [t.arn, t]));
  const fresh = listed.arns.filter((a) => !known.has(a));
  if (fresh.length > 0) {
    const described = await ecs.describeTasks(query.cluster, fresh, signal);
    if (described.failures.length > 0) return { failed: described.failures };
    for (const t of described.tasks) known.set(t.arn, t);
  }
  return { tasks: listed.arns.flatMap((a) => known.get(a) ?? []), truncated: listed.truncated };
}

/**
 * How long a description of these green tasks stands for their health: the shortest container health check
 * interval of their task definitions (read once per hook), 60 s when none has a health check, and 0 (describe
 * again) while a task is not settled in RUNNING, whose next change does not wait for a health check.
 */
async function healthFloor(
  ecs: EcsChecksPort,
  tasks: readonly TaskState[],
  memo: TasksMemo,
  signal: AbortSignal,
): Promise<{ ms: number; why: string }> {
  const unsettled = tasks.some((t) => t.lastStatus !== 'RUNNING' || t.desiredStatus !== 'RUNNING');
  const definitions = [...new Set(tasks.map((t) => t.taskDefinitionArn))];
  if (unsettled || definitions.length === 0 || definitions.includes(undefined)) return { ms: 0, why: '' };
  for (const arn of definitions as string[]) {
    if (memo.healthFloors.has(arn)) continue;
    let healthCheckIntervals: readonly number[];
    try {
      ({ healthCheckIntervals } = await ecs.taskDefinitionHealth(arn, signal));
    } catch (error) {
      if (signal.aborted || error instanceof ThrottledError) throw error;
      // Only economy rests on it: tasks of a task definition that cannot be read are described at every measurement.
      memo.healthFloors.set(arn, 0);
      continue;
    }
    // ECS accepts 5-300 s; a smaller value is not trusted to bound anything, nor one that is not a number
    // (the tasks are then described at every measurement).
    if (!healthCheckIntervals.every((s) => typeof s === 'number' && Number.isFinite(s))) {
      memo.healthFloors.set(arn, 0);
      continue;
    }
    const seconds =
      healthCheckIntervals.length > 0 ? Math.min(300, Math.max(5, Math.min(...healthCheckIntervals))) : undefined;
    memo.healthFloors.set(arn, seconds === undefined ? noHealthCheckFloorMs : seconds * 1000);
  }
  const ms = Math.min(...definitions.map((arn) => memo.healthFloors.get(arn as string) ?? 0));
  const checked = definitions.some((arn) => memo.healthFloors.get(arn as string) !== noHealthCheckFloorMs);
  return {
    ms,
    why: checked
      ? `container health checks run every ${ms / 1000} s`
      : `without a container health check, described again every ${ms / 1000} s`,
  };
}

function ago(now: number, at: number): string {
  return `${((now - at) / 1000).toFixed(1)} s ago`;
}

function failuresError(where: string, failures: readonly TaskFailure[]): Observation {
  const listed = failures.map(
    (x) => `${taskId(x.arn ?? '?')} (${x.reason ?? 'no reason'}${x.detail ? `: ${x.detail}` : ''})`,
  );
  return { outcome: 'error', message: `${where}: DescribeTasks failures: ${listSome(listed, 3)}` };
}

function judge(
  tasks: readonly TaskState[],
  since: number | undefined,
  spec: EcsTasksSpec,
  where: string,
  truncated: boolean,
): Observation {
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
