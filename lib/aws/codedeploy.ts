import {
  CodeDeployClient,
  ContinueDeploymentCommand,
  DeploymentAlreadyCompletedException,
  DeploymentIsNotInReadyStateException,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  LifecycleEventAlreadyCompletedException,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { withDeniedHint } from '../spec/denied.ts';
import { compact, lazy, sendOptions } from './lazy.ts';

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
  /** `BLUE_GREEN` or `IN_PLACE`. */
  readonly deploymentType?: string;
  readonly deploymentOption?: string;
  /** The blue/green waits this deployment was created with. */
  readonly blueGreen?: BlueGreenWaits;
  /** Documented as true once the termination wait starts; CodeDeploy leaves it false for ECS (aws/containers-roadmap#269). */
  readonly instanceTerminationWaitTimeStarted?: boolean;
  readonly statusMessages?: readonly string[];
  /** When CodeDeploy created the deployment, epoch milliseconds: a fact that never changes during it. */
  readonly createTime?: number;
  /**
   * The AppSpec this deployment deploys, when CodeDeploy holds its text (`AppSpecContent` or `String`
   * revisions; an S3 or GitHub revision leaves it out). JSON or YAML, as the deployment was created with.
   */
  readonly appSpecContent?: string;
  /** `AppSpecContent`, `String`, `S3`, `GitHub`. */
  readonly revisionType?: string;
}

export interface BlueGreenWaits {
  /** `STOP_DEPLOYMENT`: traffic waits for `ContinueDeployment(READY_WAIT)`; `CONTINUE_DEPLOYMENT`: no ready wait. */
  readonly readyAction?: string;
  readonly readyWaitMinutes?: number;
  /** `TERMINATE` (after the termination wait) or `KEEP_ALIVE`. */
  readonly terminationAction?: string;
  readonly terminationWaitMinutes?: number;
}

/**
 * An ECS task set as GetDeploymentTarget lists it (`ecsTarget.taskSetsInfo[]`). `status` and
 * `trafficWeight` change as traffic moves: once it has, the replacement is PRIMARY at 100%. Only
 * `label` (`Blue` original, `Green` replacement, which some responses omit) says which is which.
 */
export interface TaskSetInfo {
  /** The task set id (`ecs-svc/...`), CodeDeploy's `identifer` [sic]. */
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
  /** The target's own status (`InProgress`, `Succeeded`, ...): an ECS target is `Succeeded` once traffic has moved. */
  readonly status?: string;
  /** `startTime`: epoch ms the hook began, when CodeDeploy says (its one-hour limit counts from it). */
  readonly lifecycleEvents: readonly { readonly name: string; readonly status: string; readonly startTime?: number }[];
  readonly taskSets: readonly TaskSetInfo[];
  readonly lambda?: {
    readonly functionName?: string;
    readonly alias?: string;
    readonly currentVersion?: string;
    readonly targetVersion?: string;
  };
}

export type HookStatus = 'Succeeded' | 'Failed';

export type DeploymentWaitType = 'READY_WAIT' | 'TERMINATION_WAIT';

/** What became of a `ContinueDeployment`: `already-completed` and `not-ready` are CodeDeploy's "already done" answers. */
export type ContinueResult = 'continued' | 'already-completed' | 'not-ready';

/** What became of a `StopDeployment` (always with rollback); `already-completed` when there was nothing left to stop. */
export interface StopResult {
  readonly result: 'stopping' | 'already-completed';
  /** `Pending` or `Succeeded`, as CodeDeploy reports the stop. */
  readonly status?: string;
  readonly message?: string;
}

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
  /** Ends a blue/green wait early: READY_WAIT reroutes traffic, TERMINATION_WAIT ends the bake. */
  continueDeployment(
    input: { deploymentId: string; waitType: DeploymentWaitType },
    signal?: AbortSignal,
  ): Promise<ContinueResult>;
  /** Stops the deployment and always asks for a rollback: a gate never stops without rolling back. */
  stopDeploymentWithRollback(deploymentId: string, signal?: AbortSignal): Promise<StopResult>;
}

export const codeDeployClient = lazy(() => new CodeDeployClient({}));

/**
 * The template scopes the CodeDeploy actions to deployment groups: the hook function's with
 * CodeDeployApplications, the wait gate's with WaitGateDeploymentGroups. A denial says where to allow it.
 */
export const deploymentGroupsDenied =
  "greenlight's functions may act only on the deployment groups the stack's CodeDeployApplications (hook) or WaitGateDeploymentGroups (wait gate) parameter names: add the group there";

export function codeDeployAdapter(client: () => CodeDeployClient = codeDeployClient): CodeDeployPort {
  const port = codeDeployCalls(client);
  const hinted =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      call(...args).catch((error: unknown) => withDeniedHint(error, deploymentGroupsDenied));
  return {
    getDeployment: hinted(port.getDeployment),
    listDeploymentTargets: hinted(port.listDeploymentTargets),
    getDeploymentTarget: hinted(port.getDeploymentTarget),
    putLifecycleEventHookStatus: hinted(port.putLifecycleEventHookStatus),
    continueDeployment: hinted(port.continueDeployment),
    stopDeploymentWithRollback: hinted(port.stopDeploymentWithRollback),
  };
}

function codeDeployCalls(client: () => CodeDeployClient): CodeDeployPort {
  return {
    async getDeployment(deploymentId, signal) {
      const out = await client().send(new GetDeploymentCommand({ deploymentId }), sendOptions(signal));
      const info = out.deploymentInfo;
      const pair = info?.loadBalancerInfo?.targetGroupPairInfoList?.[0];
      const blueGreen = info?.blueGreenDeploymentConfiguration;
      return compact({
        deploymentId,
        applicationName: info?.applicationName,
        deploymentGroupName: info?.deploymentGroupName,
        status: info?.status,
        computePlatform: info?.computePlatform,
        creator: info?.creator,
        testListenerArns: pair?.testTrafficRoute?.listenerArns ?? [],
        prodListenerArns: pair?.prodTrafficRoute?.listenerArns ?? [],
        deploymentType: info?.deploymentStyle?.deploymentType,
        deploymentOption: info?.deploymentStyle?.deploymentOption,
        blueGreen: blueGreen
          ? compact({
              readyAction: blueGreen.deploymentReadyOption?.actionOnTimeout,
              readyWaitMinutes: blueGreen.deploymentReadyOption?.waitTimeInMinutes,
              terminationAction: blueGreen.terminateBlueInstancesOnDeploymentSuccess?.action,
              terminationWaitMinutes: blueGreen.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes,
            })
          : undefined,
        instanceTerminationWaitTimeStarted: info?.instanceTerminationWaitTimeStarted,
        statusMessages: info?.deploymentStatusMessages,
        createTime: info?.createTime?.getTime(),
        appSpecContent: info?.revision?.appSpecContent?.content ?? info?.revision?.string?.content,
        revisionType: info?.revision?.revisionType,
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
        status: ecs?.status ?? lambda?.status ?? t?.instanceTarget?.status,
        lifecycleEvents: events.map((e) =>
          compact({
            name: e.lifecycleEventName ?? '',
            status: e.status ?? 'Unknown',
            startTime: e.startTime?.getTime(),
          }),
        ),
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

    async continueDeployment(input, signal) {
      try {
        await client().send(
          new ContinueDeploymentCommand({ deploymentId: input.deploymentId, deploymentWaitType: input.waitType }),
          sendOptions(signal),
        );
        return 'continued';
      } catch (error) {
        if (error instanceof DeploymentAlreadyCompletedException) return 'already-completed';
        if (error instanceof DeploymentIsNotInReadyStateException) return 'not-ready';
        throw error;
      }
    },

    async stopDeploymentWithRollback(deploymentId, signal) {
      try {
        const out = await client().send(
          new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }),
          sendOptions(signal),
        );
        return compact({ result: 'stopping' as const, status: out.status, message: out.statusMessage });
      } catch (error) {
        if (error instanceof DeploymentAlreadyCompletedException) {
          return { result: 'already-completed', message: (error as Error).message };
        }
        throw error;
      }
    },
  };
}
