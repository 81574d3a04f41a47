import { ecsServiceNames } from '../spec/arn.ts';

/**
 * What a trigger knows about the deployment it gates, to find that deployment's plan in the plan
 * library (GREENLIGHT_PLAN_PREFIX). Each known pair becomes a key under the prefix; the first key
 * whose plan exists wins, in the order of `routeKeys`. A trigger passes what it knows; unknown parts
 * are left out.
 */
export interface PlanRoute {
  /** A CodeDeploy deployment: `codedeploy/<application>/<deploymentGroup>`. */
  readonly codedeploy?: { readonly application: string; readonly deploymentGroup: string } | undefined;
  /** An ECS service (ECS native, or the target of a CodeDeploy ECS deployment): `ecs/<cluster>/<service>`. */
  readonly ecs?: { readonly cluster: string; readonly service: string } | undefined;
  /** A Lambda function (SAM / CodeDeploy Lambda deployments): `lambda/<functionName>`. */
  readonly lambda?: { readonly functionName: string } | undefined;
}

/** The keys of a route, most specific first, and why any part could not become a key. */
export interface RouteKeys {
  /** Relative to the library: `codedeploy/App/Group`, `ecs/cluster/service`, `lambda/fn`. */
  readonly keys: readonly string[];
  /** A name that cannot be part of an SSM parameter name (it is skipped, never escaped into another's). */
  readonly refused: readonly string[];
}

/**
 * Characters an SSM parameter name may hold (PutParameter's `Name`: a-z, A-Z, 0-9, `_`, `.`, `-`, and `/`
 * between levels). `/` is refused inside a name: `app/x` + `grp` would read the plan of `app` + `x/grp`.
 * `.` and `..` alone are refused too, so that a directory library cannot be walked out of.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html
 */
const segmentPattern = /^[A-Za-z0-9_.-]{1,256}$/;

/** Whether `name` can be one level of a plan key, as SSM and a directory library both hold it. */
export function isRouteSegment(name: string): boolean {
  return segmentPattern.test(name) && name !== '.' && name !== '..';
}

/**
 * The route's keys, in the order they are tried: `codedeploy/<application>/<deploymentGroup>` (what the
 * CodeDeploy deployment was configured as), then `ecs/<cluster>/<service>` and `lambda/<functionName>`
 * (the service or function, whichever controller deploys it).
 */
export function routeKeys(route: PlanRoute | undefined): RouteKeys {
  const keys: string[] = [];
  const refused: string[] = [];
  const add = (platform: string, parts: readonly [string, string][]): void => {
    const bad = parts.filter(([, v]) => !isRouteSegment(v));
    if (bad.length > 0) {
      for (const [what, v] of bad) {
        refused.push(
          `${what} ${JSON.stringify(v.slice(0, 100))} has characters an SSM parameter name cannot hold (letters, digits, "_", ".", "-")`,
        );
      }
      return;
    }
    keys.push([platform, ...parts.map(([, v]) => v)].join('/'));
  };
  if (route?.codedeploy) {
    add('codedeploy', [
      ['CodeDeploy application', route.codedeploy.application],
      ['deployment group', route.codedeploy.deploymentGroup],
    ]);
  }
  if (route?.ecs) {
    add('ecs', [
      ['ECS cluster', route.ecs.cluster],
      ['ECS service', route.ecs.service],
    ]);
  }
  if (route?.lambda) add('lambda', [['Lambda function', route.lambda.functionName]]);
  return { keys, refused };
}

/**
 * An ECS service's route from its ARN (`arn:aws:ecs:region:account:service/cluster/service`); an ARN of the
 * old format (no cluster) or none gives no ECS key.
 */
export function ecsRoute(serviceArn: string | undefined): PlanRoute {
  const names = ecsServiceNames(serviceArn);
  return names?.cluster ? { ecs: { cluster: names.cluster, service: names.service } } : {};
}

/**
 * A CodeDeploy deployment's route: its application and group, and, when the target is known, the ECS
 * service (`cluster:service` target ids) or the Lambda function it deploys.
 */
export function codeDeployRoute(
  deployment: { readonly applicationName?: string | undefined; readonly deploymentGroupName?: string | undefined },
  target?: {
    readonly type?: string;
    readonly targetId?: string;
    readonly targetArn?: string | undefined;
    readonly lambda?: { readonly functionName?: string | undefined } | undefined;
  },
): PlanRoute {
  const { applicationName: application, deploymentGroupName: deploymentGroup } = deployment;
  let ecs: PlanRoute['ecs'];
  if (target?.type === 'ECSTarget') {
    const names = ecsServiceNames(target.targetArn);
    const [cluster, service] = names?.cluster ? [names.cluster, names.service] : (target.targetId ?? '').split(':');
    if (cluster && service) ecs = { cluster, service };
  }
  const functionName = target?.lambda?.functionName;
  return {
    ...(application && deploymentGroup ? { codedeploy: { application, deploymentGroup } } : {}),
    ...(ecs ? { ecs } : {}),
    ...(functionName ? { lambda: { functionName: lambdaName(functionName) } } : {}),
  };
}

/** A function named by its ARN (`arn:aws:lambda:...:function:name[:qualifier]`) or by name. */
function lambdaName(value: string): string {
  const m = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(value);
  return m?.[1] ?? value.split(':')[0] ?? value;
}

/**
 * Parses a route as `greenlight validate --route` takes it: `codedeploy/<application>/<group>`,
 * `ecs/<cluster>/<service>` or `lambda/<function>`. Returns undefined when it is none of these.
 */
export function parseRoute(text: string): PlanRoute | undefined {
  const parts = text.split('/');
  if (parts.some((p) => p.length === 0)) return undefined;
  const [platform, a, b] = parts;
  if (platform === 'codedeploy' && parts.length === 3 && a && b) {
    return { codedeploy: { application: a, deploymentGroup: b } };
  }
  if (platform === 'ecs' && parts.length === 3 && a && b) return { ecs: { cluster: a, service: b } };
  if (platform === 'lambda' && parts.length === 2 && a) return { lambda: { functionName: a } };
  return undefined;
}
