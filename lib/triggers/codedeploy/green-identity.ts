import type { CodeDeployDeployment, CodeDeployTarget, TaskSetInfo } from '../../aws/codedeploy.ts';
import type { TaskSetOrigin, TaskSetOriginPort } from '../../aws/task-sets.ts';
import { errorMessage } from '../../core/analyze.ts';
import { type AppSpecFacts, readAppSpec, sameTaskDefinition } from './appspec.ts';

/**
 * Which of a CodeDeploy ECS deployment's task sets is green (the replacement this deployment created)
 * and which is blue (the original). `greenUnknown` / `blueUnknown` say why one could not be told.
 */
export interface TaskSetRoles {
  readonly green?: TaskSetInfo;
  readonly blue?: TaskSetInfo;
  readonly greenUnknown?: string;
  readonly blueUnknown?: string;
  /** The facts that told green, for the log: `taskSetLabel`, `externalId`, ... */
  readonly by?: readonly string[];
}

/** Green and blue cannot be told apart, or a fact greenlight needs for it cannot be read. */
export class GreenIdentityError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GreenIdentityError';
  }
}

/**
 * Tells green from blue by facts that do not change during the deployment, never by `status` or
 * `trafficWeight` (once traffic has moved, the replacement is PRIMARY at 100%):
 * - `taskSetLabel` (`Green` is the replacement) when CodeDeploy labels every task set;
 * - else what ECS says of each task set (DescribeTaskSets): `externalId`, which holds the id of the
 *   CodeDeploy deployment that created it; its task definition against the AppSpec's `TaskDefinition`;
 *   its creation time against the deployment's. Each fact that singles out one task set votes; the
 *   votes must agree, and at least one must be cast. Anything less leaves green unknown, saying why.
 */
export async function taskSetRoles(
  deps: { readonly taskSets?: TaskSetOriginPort | undefined },
  on: {
    readonly deployment: CodeDeployDeployment;
    readonly target: CodeDeployTarget;
    readonly cluster: string | undefined;
    readonly service: string | undefined;
  },
  signal: AbortSignal,
): Promise<TaskSetRoles> {
  const sets = on.target.taskSets.filter((s): s is TaskSetInfo & { id: string } => typeof s.id === 'string');
  if (sets.length === 0) {
    const why = 'GetDeploymentTarget lists no task sets for this deployment';
    return { greenUnknown: why, blueUnknown: why };
  }
  if (sets.every((s) => s.label !== undefined)) return byLabel(sets);

  const where = `${on.cluster ?? '(unknown cluster)'}/${on.service ?? '(unknown service)'}`;
  if (!deps.taskSets) throw new GreenIdentityError('cannot tell green from blue: no ECS reader is wired in');
  if (!on.cluster || !on.service) {
    throw new GreenIdentityError(
      `cannot tell green from blue: the deployment target ${on.target.targetId} names no cluster and service to ask ECS about`,
    );
  }
  let origins: TaskSetOrigin[];
  try {
    origins = await deps.taskSets.taskSetOrigins(
      { cluster: on.cluster, service: on.service, taskSets: sets.map((s) => s.id) },
      signal,
    );
  } catch (error) {
    throw new GreenIdentityError(
      `cannot tell green from blue: DescribeTaskSets on ${where} failed: ${(error as Error)?.name}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const originOf = new Map(origins.map((o) => [o.id, o]));
  const missing = sets.filter((s) => !originOf.has(s.id)).map((s) => s.id);
  if (missing.length > 0) {
    throw new GreenIdentityError(
      `cannot tell green from blue: ECS does not know task set ${missing.join(', ')} of ${where}`,
    );
  }

  const appSpec = await readAppSpec(on.deployment.appSpecContent);
  const facts = factsOf(on.deployment, appSpec, sets, originOf);
  const votes = facts.filter((f): f is Fact & { picks: string } => typeof f.picks === 'string');
  const picked = new Set(votes.map((v) => v.picks));
  const told = facts.map((f) => `${f.name}: ${f.says}`).join('; ');
  if (picked.size > 1) {
    throw new GreenIdentityError(
      `cannot tell green from blue: the facts disagree (${votes.map((v) => `${v.name} says ${v.picks}`).join(', ')})`,
    );
  }
  const greenId = votes[0]?.picks;
  if (greenId === undefined) {
    const why = `no fact singles out the task set deployment ${on.deployment.deploymentId} created among ${sets.map((s) => s.id).join(', ')} (${told || 'ECS reports no externalId, task definition or creation time, and the deployment has no AppSpec content or create time'})`;
    // Before the replacement exists (BeforeInstall) the one task set there is is blue, when a fact rules it out as green.
    const only = sets.length === 1 ? sets[0] : undefined;
    const ruledOut = facts.some((f) => f.applicable && f.picks === undefined && f.count === 0);
    return only && ruledOut
      ? { blue: only, greenUnknown: `${why}: the replacement task set does not exist yet` }
      : { greenUnknown: why, blueUnknown: why };
  }
  // greenId is the id of one of `sets`: a fact only ever picks among them.
  const green = sets.find((s) => s.id === greenId) as TaskSetInfo;
  const others = sets.filter((s) => s.id !== greenId);
  const by = votes.map((v) => v.name);
  if (others.length === 1) return { green, blue: others[0] as TaskSetInfo, by };
  return {
    green,
    by,
    blueUnknown: `deployment target lists ${others.length} task sets besides green ${greenId}: ${others.map((s) => s.id).join(', ') || 'none'}`,
  };
}

interface Fact {
  readonly name: string;
  /** Whether this deployment has the fact at all. */
  readonly applicable: boolean;
  /** How many task sets it matches. */
  readonly count: number;
  /** The one task set it singles out. */
  readonly picks?: string;
  readonly says: string;
}

function factsOf(
  deployment: CodeDeployDeployment,
  appSpec: AppSpecFacts | undefined,
  sets: readonly (TaskSetInfo & { id: string })[],
  originOf: ReadonlyMap<string, TaskSetOrigin>,
): Fact[] {
  const fact = (name: string, matches: ((s: TaskSetInfo & { id: string }) => boolean) | undefined): Fact => {
    if (!matches) return { name, applicable: false, count: 0, says: 'not known' };
    const hits = sets.filter(matches).map((s) => s.id);
    return hits.length === 1
      ? { name, applicable: true, count: 1, picks: hits[0] as string, says: `${hits[0]}` }
      : { name, applicable: true, count: hits.length, says: `${hits.length} task sets match` };
  };
  const origin = (s: { id: string }) => originOf.get(s.id) as TaskSetOrigin;
  const out: Fact[] = [];
  if (sets.some((s) => s.label !== undefined)) {
    out.push(fact('taskSetLabel', (s) => s.label?.toUpperCase() === 'GREEN'));
  }
  out.push(
    fact(
      'externalId',
      sets.some((s) => origin(s).externalId !== undefined)
        ? (s) => origin(s).externalId === deployment.deploymentId
        : undefined,
    ),
  );
  const taskDefinition = appSpec?.ecsTaskDefinition;
  const comparable =
    taskDefinition !== undefined &&
    sets.every((s) => {
      const td = origin(s).taskDefinition;
      return td !== undefined && sameTaskDefinition(taskDefinition, td) !== undefined;
    });
  out.push(
    fact(
      'AppSpec TaskDefinition',
      comparable && taskDefinition !== undefined
        ? (s) => sameTaskDefinition(taskDefinition, origin(s).taskDefinition as string) === true
        : undefined,
    ),
  );
  const created = deployment.createTime;
  out.push(
    fact(
      'createdAt',
      created !== undefined && sets.every((s) => origin(s).createdAt !== undefined)
        ? (s) => (origin(s).createdAt as number) >= created
        : undefined,
    ),
  );
  return out;
}

function byLabel(sets: readonly (TaskSetInfo & { id: string })[]): TaskSetRoles {
  const one = (label: 'Green' | 'Blue'): { set?: TaskSetInfo; unknown?: string } => {
    const found = sets.filter((s) => s.label?.toUpperCase() === label.toUpperCase());
    if (found.length === 1) return { set: found[0] as TaskSetInfo };
    return {
      unknown:
        found.length === 0
          ? `no task set is labelled ${label} (labels: ${sets.map((s) => `${s.id} ${s.label}`).join(', ')})`
          : `${found.length} task sets are labelled ${label}`,
    };
  };
  const green = one('Green');
  const blue = one('Blue');
  return {
    ...(green.set ? { green: green.set, by: ['taskSetLabel'] } : { greenUnknown: green.unknown as string }),
    ...(blue.set ? { blue: blue.set } : { blueUnknown: blue.unknown as string }),
  };
}
