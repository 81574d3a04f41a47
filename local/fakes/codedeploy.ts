import { FakeAwsError, type JsonFake, startJsonFake } from './json-server.ts';

/** A deployment as the fake keeps it: what GetDeployment returns and each target's GetDeploymentTarget. */
export interface FakeDeployment {
  readonly deploymentInfo: Record<string, unknown> & { deploymentId: string };
  readonly targets: Record<string, Record<string, unknown>>;
}

export interface CodeDeployFake extends JsonFake {
  /** Hook execution id to the status reported for it. */
  readonly hookStatuses: Map<string, string>;
  addDeployment(deployment: FakeDeployment): void;
  deployment(deploymentId: string): FakeDeployment | undefined;
  /** Blue/green: the replacement is ready and traffic waits for ContinueDeployment(READY_WAIT). */
  becomeReady(deploymentId: string): void;
  /** Blue/green ECS: traffic has moved and the original task set waits out the termination wait. */
  beginTerminationWait(deploymentId: string): void;
}

/** As CodeDeploy shows an ECS termination wait: deployment still InProgress, its target Succeeded. */
function inTerminationWait(d: FakeDeployment): boolean {
  const status = d.deploymentInfo.status;
  if (status !== 'InProgress' && status !== 'Baking') return false;
  if (d.deploymentInfo.instanceTerminationWaitTimeStarted === true) return true;
  return Object.values(d.targets).some((t) => (t.ecsTarget as { status?: string } | undefined)?.status === 'Succeeded');
}

/**
 * The CodeDeploy APIs greenlight calls and moto_server lacks: GetDeployment, ListDeploymentTargets,
 * GetDeploymentTarget, PutLifecycleEventHookExecutionStatus, ContinueDeployment, StopDeployment.
 */
export async function startCodeDeployFake(port?: number): Promise<CodeDeployFake> {
  const deployments = new Map<string, FakeDeployment>();
  const hookStatuses = new Map<string, string>();
  const find = (input: Record<string, unknown>): FakeDeployment => {
    const id = String(input.deploymentId ?? '');
    const d = deployments.get(id);
    if (!d) throw new FakeAwsError('DeploymentDoesNotExistException', `deployment ${id} does not exist`);
    return d;
  };
  const fake = await startJsonFake({
    ...(port !== undefined ? { port } : {}),
    operations: {
      GetDeployment: (input) => ({ deploymentInfo: find(input).deploymentInfo }),
      ListDeploymentTargets: (input) => ({ targetIds: Object.keys(find(input).targets) }),
      GetDeploymentTarget: (input) => {
        const target = find(input).targets[String(input.targetId)];
        if (!target)
          throw new FakeAwsError(
            'DeploymentTargetDoesNotExistException',
            `target ${String(input.targetId)} does not exist`,
          );
        return { deploymentTarget: target };
      },
      PutLifecycleEventHookExecutionStatus: (input) => {
        find(input);
        const executionId = String(input.lifecycleEventHookExecutionId ?? '');
        const status = String(input.status ?? '');
        if (!['Succeeded', 'Failed'].includes(status)) {
          throw new FakeAwsError(
            'InvalidLifecycleEventHookExecutionStatusException',
            `status ${status} is not allowed`,
          );
        }
        if (hookStatuses.has(executionId)) {
          throw new FakeAwsError(
            'LifecycleEventAlreadyCompletedException',
            `lifecycle event ${executionId} already completed`,
          );
        }
        hookStatuses.set(executionId, status);
        return { lifecycleEventHookExecutionId: executionId };
      },
      ContinueDeployment: (input) => {
        const d = find(input);
        const id = d.deploymentInfo.deploymentId;
        const status = d.deploymentInfo.status;
        if (status === 'Succeeded' || status === 'Failed' || status === 'Stopped') {
          throw new FakeAwsError('DeploymentAlreadyCompletedException', `deployment ${id} is already completed`);
        }
        if (input.deploymentWaitType === 'TERMINATION_WAIT') {
          if (!inTerminationWait(d)) {
            throw new FakeAwsError('DeploymentIsNotInReadyStateException', `deployment ${id} is not in a ready state`);
          }
          // Ending the termination wait early removes the original task set and completes the deployment.
          d.deploymentInfo.status = 'Succeeded';
          return {};
        }
        if (status !== 'Ready') {
          throw new FakeAwsError('DeploymentIsNotInReadyStateException', `deployment ${id} is not in a ready state`);
        }
        d.deploymentInfo.status = 'InProgress';
        return {};
      },
      StopDeployment: (input) => {
        const d = find(input);
        const status = d.deploymentInfo.status;
        if (status === 'Succeeded' || status === 'Failed' || status === 'Stopped') {
          throw new FakeAwsError(
            'DeploymentAlreadyCompletedException',
            `deployment ${d.deploymentInfo.deploymentId} is already completed`,
          );
        }
        d.deploymentInfo.status = 'Stopped';
        return { status: 'Pending', statusMessage: 'Stopping' };
      },
    },
  });
  return {
    ...fake,
    hookStatuses,
    addDeployment(deployment) {
      deployments.set(deployment.deploymentInfo.deploymentId, deployment);
    },
    deployment(id) {
      return deployments.get(id);
    },
    becomeReady(id) {
      const d = deployments.get(id);
      if (d) d.deploymentInfo.status = 'Ready';
    },
    beginTerminationWait(id) {
      const d = deployments.get(id);
      if (!d) return;
      d.deploymentInfo.status = 'InProgress';
      for (const t of Object.values(d.targets)) {
        const ecs = t.ecsTarget as { status?: string; lifecycleEvents?: { status?: string }[] } | undefined;
        if (!ecs) continue;
        ecs.status = 'Succeeded';
        for (const e of ecs.lifecycleEvents ?? []) e.status = 'Succeeded';
      }
    },
  };
}

export interface EcsDeploymentOptions {
  readonly deploymentId: string;
  /** The hook reported InProgress on the target. */
  readonly hook?: string;
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  readonly cluster?: string;
  readonly service?: string;
  readonly testListenerArn?: string;
  readonly prodListenerArn?: string;
  readonly creator?: string;
  readonly status?: string;
  /** Omit Blue/Green labels, as some responses do. */
  readonly unlabelled?: boolean;
  /** Blue/green waits: a ready wait (STOP_DEPLOYMENT after so many minutes) and a termination wait. */
  readonly readyWaitMinutes?: number;
  readonly terminationWaitMinutes?: number;
}

const ecsHooks = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
];

/** A CodeDeploy ECS blue/green deployment as GetDeployment and GetDeploymentTarget show it. */
export function ecsDeployment(o: EcsDeploymentOptions): FakeDeployment {
  const cluster = o.cluster ?? 'my-cluster';
  const service = o.service ?? 'my-service';
  const hookIndex = o.hook ? ecsHooks.indexOf(o.hook) : -1;
  const listeners = (arn: string | undefined) => (arn ? { listenerArns: [arn] } : { listenerArns: [] });
  return {
    deploymentInfo: {
      deploymentId: o.deploymentId,
      applicationName: o.applicationName ?? 'AppECS-my-cluster-my-service',
      deploymentGroupName: o.deploymentGroupName ?? 'DgpECS-my-cluster-my-service',
      status: o.status ?? 'InProgress',
      computePlatform: 'ECS',
      creator: o.creator ?? 'user',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      ...(o.readyWaitMinutes !== undefined || o.terminationWaitMinutes !== undefined
        ? {
            blueGreenDeploymentConfiguration: {
              deploymentReadyOption:
                o.readyWaitMinutes !== undefined
                  ? { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: o.readyWaitMinutes }
                  : { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
              terminateBlueInstancesOnDeploymentSuccess: {
                action: 'TERMINATE',
                terminationWaitTimeInMinutes: o.terminationWaitMinutes ?? 0,
              },
            },
            // As CodeDeploy answers for ECS even during the wait (aws/containers-roadmap#269).
            instanceTerminationWaitTimeStarted: false,
          }
        : {}),
      loadBalancerInfo: {
        targetGroupPairInfoList: [
          {
            targetGroups: [{ name: 'tg-blue' }, { name: 'tg-green' }],
            prodTrafficRoute: listeners(o.prodListenerArn),
            testTrafficRoute: listeners(o.testListenerArn),
          },
        ],
      },
    },
    targets: {
      [`${cluster}:${service}`]: {
        deploymentTargetType: 'ECSTarget',
        ecsTarget: {
          deploymentId: o.deploymentId,
          targetId: `${cluster}:${service}`,
          targetArn: `arn:aws:ecs:us-east-1:123456789012:service/${cluster}/${service}`,
          status: 'InProgress',
          lifecycleEvents: ecsHooks.map((name, i) => ({
            lifecycleEventName: name,
            status:
              hookIndex < 0 ? 'Pending' : i < hookIndex ? 'Succeeded' : i === hookIndex ? 'InProgress' : 'Pending',
          })),
          taskSetsInfo: [
            {
              identifer: 'ecs-svc/1111111111111111111',
              desiredCount: 2,
              pendingCount: 0,
              runningCount: 2,
              status: 'PRIMARY',
              trafficWeight: 100,
              targetGroup: { name: 'tg-blue' },
              ...(o.unlabelled ? {} : { taskSetLabel: 'Blue' }),
            },
            {
              identifer: 'ecs-svc/2222222222222222222',
              desiredCount: 2,
              pendingCount: 0,
              runningCount: 2,
              status: 'ACTIVE',
              trafficWeight: 0,
              targetGroup: { name: 'tg-green' },
              ...(o.unlabelled ? {} : { taskSetLabel: 'Green' }),
            },
          ],
        },
      },
    },
  };
}

export interface LambdaDeploymentOptions {
  readonly deploymentId: string;
  readonly hook?: 'BeforeAllowTraffic' | 'AfterAllowTraffic';
  readonly functionName?: string;
  readonly alias?: string;
  readonly currentVersion?: string;
  readonly targetVersion?: string;
  readonly creator?: string;
}

/** A CodeDeploy Lambda deployment (SAM DeploymentPreference) as the APIs show it. */
export function lambdaDeployment(o: LambdaDeploymentOptions): FakeDeployment {
  const functionName = o.functionName ?? 'my-function';
  const alias = o.alias ?? 'live';
  const events = ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
  const hookIndex = o.hook ? events.indexOf(o.hook) : -1;
  return {
    deploymentInfo: {
      deploymentId: o.deploymentId,
      applicationName: 'my-sam-app',
      deploymentGroupName: 'my-function-group',
      status: 'InProgress',
      computePlatform: 'Lambda',
      creator: o.creator ?? 'user',
    },
    targets: {
      [`${functionName}:${alias}`]: {
        deploymentTargetType: 'LambdaTarget',
        lambdaTarget: {
          deploymentId: o.deploymentId,
          targetId: `${functionName}:${alias}`,
          targetArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}:${alias}`,
          status: 'InProgress',
          lifecycleEvents: events.map((name, i) => ({
            lifecycleEventName: name,
            status:
              hookIndex < 0 ? 'Pending' : i < hookIndex ? 'Succeeded' : i === hookIndex ? 'InProgress' : 'Pending',
          })),
          lambdaFunctionInfo: {
            functionName,
            functionAlias: alias,
            currentVersion: o.currentVersion ?? '1',
            targetVersion: o.targetVersion ?? '2',
            targetVersionWeight: 0,
          },
        },
      },
    },
  };
}
