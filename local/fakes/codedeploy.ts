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

/** The id of the replacement task set of each fake ECS target (`ecsTarget` object): what traffic moves to. */
const replacementOf = new WeakMap<object, string>();

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
        // Traffic has moved: the replacement now serves production, PRIMARY at 100%; labels stay as they were.
        const replacement = replacementOf.get(ecs);
        const sets = (ecs as { taskSetsInfo?: { identifer?: string; status?: string; trafficWeight?: number }[] })
          .taskSetsInfo;
        if (replacement !== undefined && sets?.some((t) => t.identifer === replacement)) {
          for (const t of sets) {
            t.status = t.identifer === replacement ? 'PRIMARY' : 'ACTIVE';
            t.trafficWeight = t.identifer === replacement ? 100 : 0;
          }
        }
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
  /** Omit Blue/Green labels, as some responses do (AWS's ECS blue/green tutorial shows such output). */
  readonly unlabelled?: boolean;
  /** The original (blue) and replacement (green) task sets: ids and target group names. */
  readonly taskSets?: {
    readonly blue?: { readonly id?: string; readonly targetGroup?: string };
    readonly green?: { readonly id?: string; readonly targetGroup?: string };
  };
  /**
   * Whether the replacement task set exists yet. CodeDeploy creates it after BeforeInstall ("Use to run
   * tasks before the replacement task set is created"), so by default it exists from Install on.
   */
  readonly replacementCreated?: boolean;
  /**
   * Whether production traffic has moved to the replacement: then it is PRIMARY at 100% and the original
   * ACTIVE at 0%. By default, once AllowTraffic is done (at AfterAllowTraffic).
   */
  readonly trafficShifted?: boolean;
  /** The AppSpec the deployment was created with, as GetDeployment returns it (`AppSpecContent`). */
  readonly appSpecContent?: string;
  /** When the deployment was created, epoch seconds (as the JSON protocol sends it). */
  readonly createTime?: number;
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
  const replacement = o.replacementCreated ?? (hookIndex < 0 || hookIndex > ecsHooks.indexOf('BeforeInstall'));
  const shifted = o.trafficShifted ?? hookIndex > ecsHooks.indexOf('AllowTraffic');
  const original = {
    identifer: o.taskSets?.blue?.id ?? 'ecs-svc/1111111111111111111',
    desiredCount: 2,
    pendingCount: 0,
    runningCount: 2,
    status: shifted ? 'ACTIVE' : 'PRIMARY',
    trafficWeight: shifted ? 0 : 100,
    targetGroup: { name: o.taskSets?.blue?.targetGroup ?? 'tg-blue' },
    ...(o.unlabelled ? {} : { taskSetLabel: 'Blue' }),
  };
  const replacementSet = {
    identifer: o.taskSets?.green?.id ?? 'ecs-svc/2222222222222222222',
    desiredCount: 2,
    pendingCount: 0,
    runningCount: 2,
    status: shifted ? 'PRIMARY' : 'ACTIVE',
    trafficWeight: shifted ? 100 : 0,
    targetGroup: { name: o.taskSets?.green?.targetGroup ?? 'tg-green' },
    ...(o.unlabelled ? {} : { taskSetLabel: 'Green' }),
  };
  const ecsTarget = {
    deploymentId: o.deploymentId,
    targetId: `${cluster}:${service}`,
    targetArn: `arn:aws:ecs:us-east-1:123456789012:service/${cluster}/${service}`,
    status: 'InProgress',
    lifecycleEvents: ecsHooks.map((name, i) => ({
      lifecycleEventName: name,
      status: hookIndex < 0 ? 'Pending' : i < hookIndex ? 'Succeeded' : i === hookIndex ? 'InProgress' : 'Pending',
    })),
    // The order says nothing about roles; here PRIMARY comes first, whichever task set it is.
    taskSetsInfo: !replacement ? [original] : shifted ? [replacementSet, original] : [original, replacementSet],
  };
  replacementOf.set(ecsTarget, replacementSet.identifer);
  return {
    deploymentInfo: {
      deploymentId: o.deploymentId,
      applicationName: o.applicationName ?? 'AppECS-my-cluster-my-service',
      deploymentGroupName: o.deploymentGroupName ?? 'DgpECS-my-cluster-my-service',
      status: o.status ?? 'InProgress',
      computePlatform: 'ECS',
      creator: o.creator ?? 'user',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      ...(o.createTime !== undefined ? { createTime: o.createTime } : {}),
      ...(o.appSpecContent !== undefined
        ? { revision: { revisionType: 'AppSpecContent', appSpecContent: { content: o.appSpecContent } } }
        : {}),
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
        ecsTarget,
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
  /**
   * Whether the alias has moved to the target version. Then CodeDeploy's `currentVersion` (the version
   * production traffic points to) is the target version too. By default, at AfterAllowTraffic.
   */
  readonly trafficShifted?: boolean;
  /** The AppSpec the deployment was created with (`AppSpecContent`, as SAM creates them); `null` for none. */
  readonly appSpecContent?: string | null;
}

/** The AppSpec SAM gives a CodeDeploy Lambda deployment (YAML, as the CodeDeploy User Guide shows it). */
export function lambdaAppSpec(o: { name: string; alias: string; currentVersion: string; targetVersion: string }) {
  return [
    'version: 0.0',
    'Resources:',
    '  - myLambdaFunction:',
    '      Type: AWS::Lambda::Function',
    '      Properties:',
    `        Name: "${o.name}"`,
    `        Alias: "${o.alias}"`,
    `        CurrentVersion: "${o.currentVersion}"`,
    `        TargetVersion: "${o.targetVersion}"`,
    '',
  ].join('\n');
}

/** The AppSpec of a CodeDeploy ECS deployment that deploys `taskDefinition` (JSON, as CodePipeline may send it). */
export function ecsAppSpec(taskDefinition: string): string {
  return JSON.stringify({
    version: 0.0,
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: taskDefinition,
            LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
          },
        },
      },
    ],
  });
}

/** A CodeDeploy Lambda deployment (SAM DeploymentPreference) as the APIs show it. */
export function lambdaDeployment(o: LambdaDeploymentOptions): FakeDeployment {
  const functionName = o.functionName ?? 'my-function';
  const alias = o.alias ?? 'live';
  const events = ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
  const hookIndex = o.hook ? events.indexOf(o.hook) : -1;
  const currentVersion = o.currentVersion ?? '1';
  const targetVersion = o.targetVersion ?? '2';
  const shifted = o.trafficShifted ?? hookIndex > events.indexOf('AllowTraffic');
  const appSpec =
    o.appSpecContent === null
      ? undefined
      : (o.appSpecContent ?? lambdaAppSpec({ name: functionName, alias, currentVersion, targetVersion }));
  return {
    deploymentInfo: {
      deploymentId: o.deploymentId,
      applicationName: 'my-sam-app',
      deploymentGroupName: 'my-function-group',
      status: 'InProgress',
      computePlatform: 'Lambda',
      creator: o.creator ?? 'user',
      ...(appSpec !== undefined
        ? { revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } } }
        : {}),
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
            currentVersion: shifted ? targetVersion : currentVersion,
            targetVersion,
            targetVersionWeight: shifted ? 100 : 0,
          },
        },
      },
    },
  };
}
