import type { Observation } from '../core/types.ts';
import { ecsServiceRevisionNames } from '../spec/arn.ts';
import { PlanError } from '../spec/errors.ts';
import { type Fields, join } from '../spec/fields.ts';
import type { DeploymentContext } from '../spec/placeholders.ts';
import type { CheckKind } from './kind.ts';
import { awsError, textOr } from './observations.ts';
import type { EcsChecksPort } from './ports.ts';
import { withReadBudget } from './read-budget.ts';

/**
 * Which ECS tasks are green, as the plan gives it: a CodeDeploy task set (`taskSet`, in `cluster`/`service`)
 * or an ECS native service revision (`serviceRevision`, whose ARN names its cluster and service).
 * Field names are the plan's, so that a placeholder error names the field the plan wrote.
 */
export interface EcsGreen {
  readonly cluster?: string;
  readonly service?: string;
  readonly taskSet?: string;
  readonly serviceRevision?: string;
  /** Neither was given: the deployment decides, see `preferGreen`. */
  readonly auto?: true;
}

export interface EcsServiceSpec extends EcsGreen {
  /** Tasks that may still be pending; 0 by default. */
  readonly maxPending: number;
  /** Fewer running tasks than this fails even when desired is lower (a green with 0 tasks proves nothing). */
  readonly minRunning: number;
  /**
   * Not a plan field: the service deployment the ECS native event names (`prepare`), when green is its target
   * revision, so that it is described without listing the service's deployments first.
   */
  readonly serviceDeploymentArn?: string;
}

/** Service deployment states in which green is being given up: never a pass. */
const givingUp = new Set([
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
  'STOPPED',
  'STOP_REQUESTED',
]);

/** What the ecs-service check asks of AWS: Amazon ECS reads (lib/aws/ecs-checks.ts implements it). */
export interface EcsServicePorts {
  readonly ecs: EcsChecksPort;
}

export const ecsServiceCheck: CheckKind<EcsServiceSpec, EcsServicePorts> = {
  parse(raw, path, f) {
    const green = readGreen(raw, path, f);
    const maxPending =
      raw.maxPending === undefined ? 0 : f.integer(raw.maxPending, join(path, 'maxPending'), 0, 10_000);
    const minRunning =
      raw.minRunning === undefined ? 1 : f.integer(raw.minRunning, join(path, 'minRunning'), 0, 10_000);
    if (!green || maxPending === undefined || minRunning === undefined) return undefined;
    return { ...green, maxPending, minRunning };
  },

  prepare(spec, context) {
    const green = preferGreen(spec, context);
    const { serviceDeploymentArn, targetServiceRevisionArn } = context;
    const target =
      green.serviceRevision !== undefined &&
      (/^\{\{\s*targetServiceRevisionArn\s*\}\}$/.test(green.serviceRevision) ||
        green.serviceRevision === targetServiceRevisionArn);
    // The event names the service deployment whose target is this revision: no ListServiceDeployments to find it.
    return target && serviceDeploymentArn && targetServiceRevisionArn ? { ...green, serviceDeploymentArn } : green;
  },

  create(spec, deps, path) {
    const { ecs } = deps;
    const green = resolveGreen(spec, path);
    // Which service deployment targets the revision does not change during a hook: named by the event, or listed
    // once, then described at every measurement (a rollback can start at any moment). The adapter checks that the
    // deployment it describes targets the revision, and lists when it does not.
    const known: { serviceDeploymentArn?: string } =
      spec.serviceDeploymentArn === undefined ? {} : { serviceDeploymentArn: spec.serviceDeploymentArn };
    return withReadBudget(deps.clock, (signal) =>
      green.kind === 'taskSet'
        ? measureTaskSet(ecs, green, spec, signal)
        : measureRevision(ecs, green, spec, signal, known),
    );
  },
};

/**
 * `taskSet` (CodeDeploy, default `{{greenTaskSet}}` in `{{cluster}}`/`{{service}}`) or `serviceRevision`
 * (ECS native, usually `{{targetServiceRevisionArn}}`); giving both is a mistake.
 */
export function readGreen(raw: Record<string, unknown>, path: string, f: Fields): EcsGreen | undefined {
  if (raw.taskSet !== undefined && raw.serviceRevision !== undefined) {
    f.problem(
      join(path, 'serviceRevision'),
      'give either taskSet (CodeDeploy) or serviceRevision (ECS native), not both',
    );
    return undefined;
  }
  if (raw.serviceRevision !== undefined) {
    const serviceRevision = f.string(raw.serviceRevision, join(path, 'serviceRevision'), { max: 2048 });
    const cluster = raw.cluster === undefined ? undefined : f.string(raw.cluster, join(path, 'cluster'), { max: 2048 });
    const service = raw.service === undefined ? undefined : f.string(raw.service, join(path, 'service'), { max: 2048 });
    if (serviceRevision === undefined) return undefined;
    return {
      serviceRevision,
      ...(cluster !== undefined ? { cluster } : {}),
      ...(service !== undefined ? { service } : {}),
    };
  }
  const cluster = textOr(raw, 'cluster', path, f, '{{cluster}}');
  const service = textOr(raw, 'service', path, f, '{{service}}');
  const taskSet = textOr(raw, 'taskSet', path, f, '{{greenTaskSet}}');
  if (cluster === undefined || service === undefined || taskSet === undefined) return undefined;
  return raw.taskSet === undefined ? { cluster, service, taskSet, auto: true } : { cluster, service, taskSet };
}

/**
 * With no taskSet or serviceRevision in the plan, green is the CodeDeploy green task set when the
 * deployment has one, else the ECS native target revision, so one plan serves both kinds of deployment.
 */
export function preferGreen<S extends EcsGreen>(spec: S, context: DeploymentContext): S {
  if (!spec.auto) return spec;
  const { auto: _auto, taskSet: _taskSet, ...rest } = spec;
  if (!context.greenTaskSet && context.targetServiceRevisionArn) {
    return { ...rest, serviceRevision: '{{targetServiceRevisionArn}}' } as S;
  }
  return { ...rest, taskSet: '{{greenTaskSet}}' } as S;
}

export type ResolvedGreen =
  | { readonly kind: 'taskSet'; readonly cluster: string; readonly service: string; readonly taskSet: string }
  | {
      readonly kind: 'serviceRevision';
      readonly cluster: string;
      readonly service: string;
      readonly serviceRevision: string;
    };

/** Fills cluster and service from a service revision ARN (`.../service-revision/<cluster>/<service>/<id>`). */
export function resolveGreen(green: EcsGreen, path: string): ResolvedGreen {
  if (green.serviceRevision === undefined) {
    const { cluster, service, taskSet } = green;
    // readGreen defaults each of them to a placeholder; an empty one is a plan that got around it.
    if (!cluster || !service || !taskSet) {
      throw new PlanError([`${path}: a task set needs cluster, service and taskSet`]);
    }
    return { kind: 'taskSet', cluster, service, taskSet };
  }
  const names = ecsServiceRevisionNames(green.serviceRevision);
  const cluster = green.cluster ?? names?.cluster;
  const service = green.service ?? names?.service;
  if (cluster === undefined || service === undefined) {
    throw new PlanError([
      `${join(path, 'serviceRevision')}: expected a service revision ARN (arn:aws:ecs:<region>:<account>:service-revision/<cluster>/<service>/<id>), or give cluster and service`,
    ]);
  }
  return {
    kind: 'serviceRevision',
    cluster,
    service,
    serviceRevision: green.serviceRevision,
  };
}

async function measureTaskSet(
  ecs: EcsChecksPort,
  green: Extract<ResolvedGreen, { kind: 'taskSet' }>,
  spec: EcsServiceSpec,
  signal: AbortSignal,
): Promise<Observation> {
  const where = `task set ${green.taskSet} of ${green.cluster}/${green.service}`;
  let set: Awaited<ReturnType<EcsChecksPort['taskSet']>>;
  try {
    set = await ecs.taskSet(green, signal);
  } catch (error) {
    return awsError(`DescribeTaskSets ${where}`, error, signal);
  }
  if (!set) return { outcome: 'error', message: `${where}: not found` };
  if (set.status === 'DRAINING')
    return { outcome: 'fail', message: `${where}: is DRAINING`, value: set.running ?? null };
  const label = [set.status, set.stabilityStatus].filter(Boolean).join(', ');
  return judgeCounts(`${where}${label ? ` (${label})` : ''}`, set.desired, set.running, set.pending, spec);
}

async function measureRevision(
  ecs: EcsChecksPort,
  green: Extract<ResolvedGreen, { kind: 'serviceRevision' }>,
  spec: EcsServiceSpec,
  signal: AbortSignal,
  known: { serviceDeploymentArn?: string },
): Promise<Observation> {
  const where = `service revision ${green.serviceRevision}`;
  let deployment: Awaited<ReturnType<EcsChecksPort['revisionDeployment']>>;
  try {
    deployment = await ecs.revisionDeployment(
      {
        cluster: green.cluster,
        service: green.service,
        revisionArn: green.serviceRevision,
        ...(known.serviceDeploymentArn ? { serviceDeploymentArn: known.serviceDeploymentArn } : {}),
      },
      signal,
    );
    if (deployment) known.serviceDeploymentArn = deployment.serviceDeploymentArn;
  } catch (error) {
    return awsError(`ListServiceDeployments/DescribeServiceDeployments ${where}`, error, signal);
  }
  if (!deployment) {
    return {
      outcome: 'error',
      message: `${where}: no service deployment of ${green.cluster}/${green.service} targets it`,
    };
  }
  const status = deployment.status ?? 'unknown';
  if (givingUp.has(status) || deployment.rollback) {
    const reason = deployment.statusReason ? `: ${deployment.statusReason}` : '';
    return {
      outcome: 'fail',
      message: `${where}: service deployment is ${status}${deployment.rollback ? ' (rollback)' : ''}${reason}`,
      value: status,
    };
  }
  return judgeCounts(
    `${where} (deployment ${status})`,
    deployment.requested,
    deployment.running,
    deployment.pending,
    spec,
  );
}

function judgeCounts(
  where: string,
  desired: number | undefined,
  running: number | undefined,
  pending: number | undefined,
  spec: EcsServiceSpec,
): Observation {
  if (desired === undefined || running === undefined) {
    return { outcome: 'error', message: `${where}: ECS reported no desired or running count` };
  }
  const counts = `${running} running of ${desired} desired, ${pending ?? 0} pending`;
  const fail = (why: string): Observation => ({
    outcome: 'fail',
    message: `${where}: ${counts}: ${why}`,
    value: running,
  });
  if (running < spec.minRunning) return fail(`fewer than minRunning ${spec.minRunning}`);
  if (running !== desired) return fail('running is not the desired count');
  if ((pending ?? 0) > spec.maxPending) return fail(`more pending than maxPending ${spec.maxPending}`);
  return { outcome: 'pass', message: `${where}: ${counts}`, value: running };
}
