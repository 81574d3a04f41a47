import { cloudWatchAlarmsCheck } from './cloudwatch-alarms.ts';
import { cloudWatchMetricCheck } from './cloudwatch-metric.ts';
import { compareCheck } from './compare.ts';
import { datadogCheck } from './datadog.ts';
import { ecsServiceCheck } from './ecs-service.ts';
import { ecsTasksCheck } from './ecs-tasks.ts';
import { httpCheck } from './http.ts';
import type { CheckBase, CheckKind } from './kind.ts';
import { lambdaInvokeCheck } from './lambda-invoke.ts';
import { prometheusCheck } from './prometheus.ts';
import type { SecretPort } from './secrets.ts';
import { targetHealthCheck } from './target-health.ts';

/** Every check kind, by the `type` a plan gives it. A new kind is one file and one line here. */
export const checkKinds = {
  http: httpCheck,
  'ecs-service': ecsServiceCheck,
  'ecs-tasks': ecsTasksCheck,
  'target-health': targetHealthCheck,
  'cloudwatch-alarms': cloudWatchAlarmsCheck,
  'cloudwatch-metric': cloudWatchMetricCheck,
  'lambda-invoke': lambdaInvokeCheck,
  compare: compareCheck,
  prometheus: prometheusCheck,
  datadog: datadogCheck,
  // biome-ignore lint/suspicious/noExplicitAny: kinds differ in their spec type; CheckSpec recovers each one.
} as const satisfies Record<string, CheckKind<any, any>>;

export type CheckKindName = keyof typeof checkKinds;

export type CheckSpec<K extends CheckKindName> = (typeof checkKinds)[K] extends CheckKind<infer S> ? S : never;

export function isCheckKind(value: unknown): value is CheckKindName {
  return typeof value === 'string' && Object.hasOwn(checkKinds, value);
}

/** A kind's port, read from what its `create` asks for beyond the base. */
type PortOf<K> = K extends { create(spec: never, deps: infer D, path: string): unknown }
  ? Omit<D, keyof CheckBase>
  : never;
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * Every port the registry's kinds name, each one required, and the secret port the plan's `secrets`
 * read through. A new kind that names a new port adds it here by itself, and the composition root,
 * which must build `WiredCheckDeps`, stops compiling until an adapter is wired.
 */
export type CheckPorts = Required<Intersection<PortOf<(typeof checkKinds)[CheckKindName]>>> & {
  readonly secrets: SecretPort;
};

/** What the composition root gives buildRuns: the base and every port, none missing. */
export type WiredCheckDeps = CheckBase & CheckPorts;
