import type { CodeDeployPort } from '../aws/codedeploy.ts';
import type { DurableExecutionSummary, DurableReadPort } from '../aws/durable-read.ts';
import type { EcsServiceDeploymentsPort } from '../aws/service-deployments.ts';
import { type AnalysisView, analysisFromHistory, startOf } from './analysis.ts';

/**
 * `greenlight status`: what greenlight and AWS already record about a deployment, read and put together.
 * The deployment's lifecycle (CodeDeploy GetDeployment / GetDeploymentTarget, ECS DescribeServiceDeployments)
 * says which hook runs and when its hour ends; the durable executions greenlight started for it say which
 * plan key judges it, each check's measurements so far and the verdict. Read-only; the shape of
 * `StatusSnapshot` is the documented `--json` (docs/cli.md, "status"): fields are added, never renamed.
 */

/** What to look at: a CodeDeploy deployment, an ECS service, or a Lambda function deployed by CodeDeploy. */
export type StatusTarget =
  | { readonly kind: 'deployment'; readonly deploymentId: string }
  | { readonly kind: 'service'; readonly cluster: string; readonly service: string }
  | { readonly kind: 'function'; readonly functionName: string };

/** Where status reads from: the ports, each read-only. */
export interface StatusSources {
  readonly codedeploy: Pick<CodeDeployPort, 'getDeployment' | 'listDeploymentTargets' | 'getDeploymentTarget'>;
  /** The durable analysis function and how to read its executions; absent: long analyses are not shown. */
  readonly durable?: { readonly port: DurableReadPort; readonly functionName: string };
  /** ECS native deployments of a service (`--cluster/--service`); absent: not read. */
  readonly ecs?: EcsServiceDeploymentsPort;
}

/** A CodeDeploy hook's own record: CodeDeploy gives a hook an hour to be reported. */
export interface HookView {
  readonly name: string;
  /** Pending, InProgress, Succeeded, Failed, Skipped, Unknown. */
  readonly status: string;
  readonly startedAt?: number;
  /** Epoch ms at which CodeDeploy fails the hook unless it is reported: its start plus one hour. */
  readonly deadline?: number;
}

export interface DeploymentView {
  readonly source: 'codedeploy' | 'ecs';
  readonly id: string;
  /** CodeDeploy: Created, Queued, InProgress, Baking, Ready, Succeeded, Failed, Stopped. ECS: PENDING, IN_PROGRESS, SUCCESSFUL, ... */
  readonly status?: string;
  /** CodeDeploy `application/deployment group`, ECS `cluster/service`. */
  readonly group?: string;
  readonly platform?: string;
  /** ECS: the lifecycle stage the deployment is in. */
  readonly stage?: string;
  readonly targets: readonly {
    readonly id: string;
    readonly status?: string;
    readonly hooks: readonly HookView[];
  }[];
}

/** The `--json` document (v 1). */
export interface StatusSnapshot {
  readonly v: 1;
  /** Epoch ms the snapshot was read. */
  readonly at: number;
  readonly target: StatusTarget;
  readonly deployments: readonly DeploymentView[];
  /** The hooks being judged now: each InProgress hook, with the analysis judging it when there is one. */
  readonly judging: readonly { readonly deploymentId: string; readonly hook: string; readonly execution?: string }[];
  readonly analyses: readonly AnalysisView[];
  /** Every deployment has ended (or, with none found, every analysis has): a watch stops here. */
  readonly done: boolean;
  /** `pass` once done with nothing failed; `fail` once a verdict failed or a deployment failed or stopped. */
  readonly outcome: 'pass' | 'fail' | 'pending';
  /** What could not be read or was not asked for, in words. */
  readonly notes: readonly string[];
}

/** What stays the same between the snapshots of one watch: an execution's input never changes. */
export interface StatusCache {
  readonly inputs: Map<string, ReturnType<typeof startOf>>;
  /** Deployment id to the targets CodeDeploy lists for it (they do not change once listed). */
  readonly targetIds: Map<string, readonly string[]>;
}

export function newStatusCache(): StatusCache {
  return { inputs: new Map(), targetIds: new Map() };
}

const codeDeployEnded = new Set(['Succeeded', 'Failed', 'Stopped']);
const ecsEnded = new Set(['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);
/** CodeDeploy fails a hook not reported within an hour of its start. */
export const hookHourMs = 60 * 60_000;
/** How far back executions are looked for when no deployment says since when: a hook's hour and a margin. */
const lookBackMs = 2 * hookHourMs;

/**
 * Reads one snapshot. Throws what a source threw for the target itself (a deployment that does not exist,
 * access denied on it); a read about something found along the way that fails becomes a note instead.
 */
export async function readStatus(
  target: StatusTarget,
  sources: StatusSources,
  now: number,
  cache: StatusCache = newStatusCache(),
  signal?: AbortSignal,
): Promise<StatusSnapshot> {
  const notes: string[] = [];
  const deployments: DeploymentView[] = [];
  let since = now - lookBackMs;
  const deploymentIds = new Set<string>();

  if (target.kind === 'deployment') {
    const view = await codeDeployView(target.deploymentId, sources, cache, signal);
    deployments.push(view.deployment);
    if (view.createTime !== undefined) since = view.createTime - 60_000;
    deploymentIds.add(target.deploymentId);
  }
  if (target.kind === 'service' && sources.ecs) {
    try {
      const ecs = await sources.ecs.latest(target.cluster, target.service, signal);
      if (ecs) deployments.push(ecsView(ecs, target));
    } catch (error) {
      notes.push(`ECS service deployments could not be read: ${messageOf(error)}`);
    }
  }

  const analyses: AnalysisView[] = [];
  if (!sources.durable) {
    notes.push(
      'no durable analysis function given (--durable-function or GREENLIGHT_DURABLE_FUNCTION): analyses longer than one invocation are not shown',
    );
  } else {
    const { port, functionName } = sources.durable;
    const executions = await port.list(functionName, { startedAfter: since, limit: 100 }, signal);
    for (const execution of executions) {
      let start = cache.inputs.get(execution.arn);
      if (start === undefined) {
        start = startOf((await port.get(execution.arn, signal)).input);
        cache.inputs.set(execution.arn, start);
      }
      const id = start.deploymentId;
      if (id === undefined) continue;
      if (!(await concerns(target, id, sources, cache, notes, signal))) continue;
      deploymentIds.add(id);
      analyses.push(analysisFromHistory(summary(execution), await port.history(execution.arn, signal)));
    }
  }

  // Deployments found through their analyses (--cluster/--service, --function) get their lifecycle too.
  for (const id of deploymentIds) {
    if (deployments.some((d) => d.id === id)) continue;
    try {
      deployments.push((await codeDeployView(id, sources, cache, signal)).deployment);
    } catch (error) {
      notes.push(`deployment ${id} could not be read: ${messageOf(error)}`);
    }
  }
  if (deployments.length === 0 && analyses.length === 0) {
    notes.push('no deployment and no analysis found for this target (yet)');
  }

  analyses.sort((a, b) => (a.execution.startedAt ?? 0) - (b.execution.startedAt ?? 0));
  const judging = deployments.flatMap((d) =>
    d.targets.flatMap((t) =>
      t.hooks
        .filter((h) => h.status === 'InProgress')
        .map((h) => {
          const by = [...analyses]
            .reverse()
            .find((a) => a.deploymentId === d.id && (a.hook === undefined || a.hook === h.name));
          return { deploymentId: d.id, hook: h.name, ...(by ? { execution: by.execution.name } : {}) };
        }),
    ),
  );
  if (target.kind === 'service' && sources.ecs) {
    for (const d of deployments.filter((x) => x.source === 'ecs' && x.stage && !isEnded(x))) {
      judging.push({ deploymentId: d.id, hook: d.stage as string });
    }
  }
  const done =
    deployments.length > 0
      ? deployments.every(isEnded)
      : analyses.length > 0 && analyses.every((a) => a.execution.status !== 'RUNNING');
  const failed =
    analyses.some((a) => a.phase === 'failed' || (a.verdict !== undefined && a.verdict.status !== 'pass')) ||
    deployments.some((d) =>
      ['Failed', 'Stopped', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'].includes(d.status ?? ''),
    );
  return {
    v: 1,
    at: now,
    target,
    deployments,
    judging,
    analyses,
    done,
    outcome: failed ? 'fail' : done ? 'pass' : 'pending',
    notes,
  };
}

function isEnded(d: DeploymentView): boolean {
  return d.source === 'codedeploy' ? codeDeployEnded.has(d.status ?? '') : ecsEnded.has(d.status ?? '');
}

function summary(e: DurableExecutionSummary): AnalysisView['execution'] {
  return {
    name: e.name,
    arn: e.arn,
    status: e.status,
    ...(e.startedAt !== undefined ? { startedAt: e.startedAt } : {}),
    ...(e.endedAt !== undefined ? { endedAt: e.endedAt } : {}),
  };
}

/** Whether the deployment an execution analyses is the target's. */
async function concerns(
  target: StatusTarget,
  deploymentId: string,
  sources: StatusSources,
  cache: StatusCache,
  notes: string[],
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (target.kind === 'deployment') return deploymentId === target.deploymentId;
  let ids = cache.targetIds.get(deploymentId);
  if (ids === undefined) {
    try {
      ids = await sources.codedeploy.listDeploymentTargets(deploymentId, signal);
    } catch (error) {
      notes.push(`the targets of deployment ${deploymentId} could not be read: ${messageOf(error)}`);
      return false;
    }
    cache.targetIds.set(deploymentId, ids);
  }
  // CodeDeploy names an ECS target `cluster:service` and a Lambda target `function:alias`.
  if (target.kind === 'service') return ids.includes(`${target.cluster}:${target.service}`);
  return ids.some((id) => id === target.functionName || id.startsWith(`${target.functionName}:`));
}

async function codeDeployView(
  deploymentId: string,
  sources: StatusSources,
  cache: StatusCache,
  signal: AbortSignal | undefined,
): Promise<{ deployment: DeploymentView; createTime?: number }> {
  const d = await sources.codedeploy.getDeployment(deploymentId, signal);
  let ids = cache.targetIds.get(deploymentId);
  if (ids === undefined) {
    ids = await sources.codedeploy.listDeploymentTargets(deploymentId, signal);
    cache.targetIds.set(deploymentId, ids);
  }
  const targets = [];
  for (const id of ids.slice(0, 10)) {
    const t = await sources.codedeploy.getDeploymentTarget(deploymentId, id, signal);
    targets.push({
      id: t.targetId,
      ...(t.status !== undefined ? { status: t.status } : {}),
      hooks: t.lifecycleEvents.map((e) => ({
        name: e.name,
        status: e.status,
        ...(e.startTime !== undefined ? { startedAt: e.startTime, deadline: e.startTime + hookHourMs } : {}),
      })),
    });
  }
  const group =
    d.applicationName !== undefined ? `${d.applicationName}/${d.deploymentGroupName ?? '?'}` : d.deploymentGroupName;
  return {
    deployment: {
      source: 'codedeploy',
      id: deploymentId,
      ...(d.status !== undefined ? { status: d.status } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(d.computePlatform !== undefined ? { platform: d.computePlatform } : {}),
      targets,
    },
    ...(d.createTime !== undefined ? { createTime: d.createTime } : {}),
  };
}

function ecsView(
  d: Awaited<ReturnType<EcsServiceDeploymentsPort['latest']>> & object,
  target: { cluster: string; service: string },
): DeploymentView {
  return {
    source: 'ecs',
    id: d.serviceDeploymentArn,
    ...(d.status !== undefined ? { status: d.status } : {}),
    group: `${target.cluster}/${target.service}`,
    platform: 'ECS',
    ...(d.lifecycleStage !== undefined ? { stage: d.lifecycleStage } : {}),
    targets: [],
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
