import {
  CodeDeployClient,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  LifecycleEventAlreadyCompletedException,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { lazy, sendOptions } from './lazy.ts';

export interface CodeDeployDeployment {
  readonly deploymentId: string;
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  readonly status?: string;
  readonly computePlatform?: string;
  /** `user`, `autoscaling`, `codeDeployRollback`, `autoRollback`, ... */
  readonly creator?: string;
  readonly testListenerArns: readonly string[];
  readonly prodListenerArns: readonly string[];
}

export interface TaskSetInfo {
  readonly id?: string;
  readonly label?: string;
  readonly status?: string;
  readonly targetGroup?: string;
  readonly trafficWeight?: number;
  readonly desiredCount?: number;
  readonly runningCount?: number;
  readonly pendingCount?: number;
}

export interface CodeDeployTarget {
  readonly targetId: string;
  readonly targetArn?: string;
  readonly type: string;
  readonly lifecycleEvents: readonly { readonly name: string; readonly status: string }[];
  readonly taskSets: readonly TaskSetInfo[];
  readonly lambda?: {
    readonly functionName?: string;
    readonly alias?: string;
    readonly currentVersion?: string;
    readonly targetVersion?: string;
  };
}

export type HookStatus = 'Succeeded' | 'Failed';

/** What greenlight asks of CodeDeploy. */
export interface CodeDeployPort {
  getDeployment(deploymentId: string, signal?: AbortSignal): Promise<CodeDeployDeployment>;
  listDeploymentTargets(deploymentId: string, signal?: AbortSignal): Promise<string[]>;
  getDeploymentTarget(deploymentId: string, targetId: string, signal?: AbortSignal): Promise<CodeDeployTarget>;
  /** `already-completed` when CodeDeploy has this hook's status already: a duplicate delivery. */
  putLifecycleEventHookStatus(
    input: { deploymentId: string; executionId: string; status: HookStatus },
    signal?: AbortSignal,
  ): Promise<'reported' | 'already-completed'>;
}

export const codeDeployClient = lazy(() => new CodeDeployClient({}));

export function codeDeployAdapter(client: () => CodeDeployClient = codeDeployClient): CodeDeployPort {
  return {
    async getDeployment(deploymentId, signal) {
      const out = await client().send(new GetDeploymentCommand({ deploymentId }), sendOptions(signal));
      const info = out.deploymentInfo;
      const pair = info?.loadBalancerInfo?.targetGroupPairInfoList?.[0];
      return compact({
        deploymentId,
        applicationName: info?.applicationName,
        deploymentGroupName: info?.deploymentGroupName,
        status: info?.status,
        computePlatform: info?.computePlatform,
        creator: info?.creator,
        testListenerArns: pair?.testTrafficRoute?.listenerArns ?? [],
        prodListenerArns: pair?.prodTrafficRoute?.listenerArns ?? [],
      });
    },

    async listDeploymentTargets(deploymentId, signal) {
      const ids: string[] = [];
      let nextToken: string | undefined;
      do {
        const out = await client().send(
          new ListDeploymentTargetsCommand({ deploymentId, nextToken }),
          sendOptions(signal),
        );
        ids.push(...(out.targetIds ?? []));
        nextToken = out.nextToken;
      } while (nextToken && ids.length < 1000);
      return ids;
    },

    async getDeploymentTarget(deploymentId, targetId, signal) {
      const out = await client().send(new GetDeploymentTargetCommand({ deploymentId, targetId }), sendOptions(signal));
      const t = out.deploymentTarget;
      const ecs = t?.ecsTarget;
      const lambda = t?.lambdaTarget;
      const events = ecs?.lifecycleEvents ?? lambda?.lifecycleEvents ?? t?.instanceTarget?.lifecycleEvents ?? [];
      const info = lambda?.lambdaFunctionInfo;
      return compact({
        targetId: ecs?.targetId ?? lambda?.targetId ?? targetId,
        targetArn: ecs?.targetArn ?? lambda?.targetArn,
        type: t?.deploymentTargetType ?? 'unknown',
        lifecycleEvents: events.map((e) => ({ name: e.lifecycleEventName ?? '', status: e.status ?? 'Unknown' })),
        taskSets: (ecs?.taskSetsInfo ?? []).map((s) =>
          compact({
            id: s.identifer,
            label: s.taskSetLabel,
            status: s.status,
            targetGroup: s.targetGroup?.name,
            trafficWeight: s.trafficWeight,
            desiredCount: s.desiredCount,
            runningCount: s.runningCount,
            pendingCount: s.pendingCount,
          }),
        ),
        lambda: info
          ? compact({
              functionName: info.functionName,
              alias: info.functionAlias,
              currentVersion: info.currentVersion,
              targetVersion: info.targetVersion,
            })
          : undefined,
      });
    },

    async putLifecycleEventHookStatus(input, signal) {
      try {
        await client().send(
          new PutLifecycleEventHookExecutionStatusCommand({
            deploymentId: input.deploymentId,
            lifecycleEventHookExecutionId: input.executionId,
            status: input.status,
          }),
          sendOptions(signal),
        );
        return 'reported';
      } catch (error) {
        if (error instanceof LifecycleEventAlreadyCompletedException) return 'already-completed';
        throw error;
      }
    },
  };
}

/** Drops undefined properties, so optional fields stay absent under exactOptionalPropertyTypes. */
export function compact<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
