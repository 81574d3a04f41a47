import { GateEventError } from '../../gate/errors.ts';
import { ecsClusterName, ecsServiceDeploymentNames, ecsServiceNames, ecsServiceRevisionNames } from '../../spec/arn.ts';
import { ecsStages } from '../../spec/hooks.ts';

export type EcsStage = (typeof ecsStages)[number];

/** What ECS sends an `AWS_LAMBDA` lifecycle hook, whichever of its two documented shapes it came in. */
export interface EcsHookEvent {
  readonly executionId?: string;
  readonly lifecycleStage: EcsStage;
  /** The service deployment ARN. */
  readonly resourceArn?: string;
  readonly serviceArn: string;
  readonly targetServiceRevisionArn: string;
  /** Service revision ARN to percent. Often `{}`. */
  readonly testTrafficWeights: Readonly<Record<string, number>>;
  readonly productionTrafficWeights: Readonly<Record<string, number>>;
  readonly hookDetails?: Readonly<Record<string, unknown>>;
}

const hookIdPattern = /^[A-Za-z0-9_.:-]{1,256}$/;
const executionIdPattern = /^[A-Za-z0-9_.:-]{1,256}$/;
const maxEventBytes = 256 * 1024;

/** Reads an ECS lifecycle hook event; unknown keys are ignored. Throws a `GateEventError` naming the field. */
export function readEcsHookEvent(event: unknown): EcsHookEvent {
  const top = asObject(parseMaybeJson(event), 'event');
  // The current envelope nests these four under executionDetails; older documentation showed them at the top.
  const details = top.executionDetails === undefined ? top : asObject(top.executionDetails, 'executionDetails');
  const at = top.executionDetails === undefined ? '' : 'executionDetails.';

  const stage = top.lifecycleStage;
  if (typeof stage !== 'string' || !(ecsStages as readonly string[]).includes(stage)) {
    throw new GateEventError(`lifecycleStage: expected one of ${ecsStages.join(', ')}, got ${show(stage)}`);
  }
  const serviceArn = arn(details.serviceArn, `${at}serviceArn`, ecsServiceNames, 'an ECS service ARN');
  const targetServiceRevisionArn = arn(
    details.targetServiceRevisionArn,
    `${at}targetServiceRevisionArn`,
    ecsServiceRevisionNames,
    'an ECS service revision ARN',
  );
  const resourceArn =
    top.resourceArn === undefined || top.resourceArn === null
      ? undefined
      : arn(top.resourceArn, 'resourceArn', ecsServiceDeploymentNames, 'an ECS service deployment ARN');
  let executionId: string | undefined;
  if (top.executionId !== undefined && top.executionId !== null) {
    if (typeof top.executionId !== 'string' || !executionIdPattern.test(top.executionId)) {
      throw new GateEventError(`executionId: expected an id, got ${show(top.executionId)}`);
    }
    executionId = top.executionId;
  }
  const testTrafficWeights = weights(details.testTrafficWeights, `${at}testTrafficWeights`);
  const productionTrafficWeights = weights(details.productionTrafficWeights, `${at}productionTrafficWeights`);
  let hookDetails: Record<string, unknown> | undefined;
  if (top.hookDetails !== undefined && top.hookDetails !== null) {
    hookDetails = asObject(top.hookDetails, 'hookDetails');
  }
  return {
    lifecycleStage: stage as EcsStage,
    serviceArn,
    targetServiceRevisionArn,
    testTrafficWeights,
    productionTrafficWeights,
    ...(executionId === undefined ? {} : { executionId }),
    ...(resourceArn === undefined ? {} : { resourceArn }),
    ...(hookDetails === undefined ? {} : { hookDetails }),
  };
}

/** A PAUSE hook waiting for a decision, as an EventBridge event names it (ids; the rest is checked against ECS). */
export interface PauseHookRef {
  readonly hookId: string;
  readonly serviceDeploymentArn: string;
  readonly lifecycleStage?: EcsStage;
  readonly clusterArn?: string;
  readonly serviceArn?: string;
  /** Epoch ms, as the event said; DescribeServiceDeployments is the authority. */
  readonly expiresAt?: number;
}

export type PauseGateInput =
  | { readonly kind: 'awaiting'; readonly hook: PauseHookRef; readonly eventId?: string }
  /** Not for this gate (another event name or hook type): a logged no-op. */
  | { readonly kind: 'ignored'; readonly reason: string };

/**
 * Reads an EventBridge `ECS Hook State Change` event (the durable execution starts from a minimal one of
 * the same shape: `pauseStartEvent`). Throws a `GateEventError` when the hook cannot be identified: there
 * is then nothing to continue or roll back.
 */
export function readPauseGateInput(event: unknown): PauseGateInput {
  const top = asObject(parseMaybeJson(event), 'event');
  if (top.source !== 'aws.ecs' || top['detail-type'] !== 'ECS Hook State Change') {
    throw new GateEventError(
      `not an ECS Hook State Change event (source ${show(top.source)}, detail-type ${show(top['detail-type'])})`,
    );
  }
  const detail = asObject(top.detail, 'detail');
  if (detail.eventName !== 'HOOK_AWAITING_ACTION') {
    return { kind: 'ignored', reason: `eventName ${show(detail.eventName)} needs no decision` };
  }
  if (detail.hookType !== undefined && detail.hookType !== 'PAUSE') {
    return { kind: 'ignored', reason: `hookType ${show(detail.hookType)} is not a PAUSE hook` };
  }
  const hook = readHookRef(detail, 'detail.');
  return typeof top.id === 'string' ? { kind: 'awaiting', hook, eventId: top.id } : { kind: 'awaiting', hook };
}

/**
 * The event a PAUSE hook's durable execution starts from: the hook's ids in an `ECS Hook State Change`
 * envelope, nothing the invoker chose beyond them, so that every delivery of the hook names the same
 * execution with the same payload (Lambda's idempotency), and `readPauseGateInput` reads it.
 */
export function pauseStartEvent(hook: Pick<PauseHookRef, 'hookId' | 'serviceDeploymentArn'>): Record<string, unknown> {
  return {
    source: 'aws.ecs',
    'detail-type': 'ECS Hook State Change',
    detail: {
      eventName: 'HOOK_AWAITING_ACTION',
      hookType: 'PAUSE',
      hookId: hook.hookId,
      serviceDeploymentArn: hook.serviceDeploymentArn,
    },
  };
}

function readHookRef(r: Record<string, unknown>, at: string): PauseHookRef {
  if (typeof r.hookId !== 'string' || !hookIdPattern.test(r.hookId)) {
    throw new GateEventError(`${at}hookId: expected a hook id, got ${show(r.hookId)}`);
  }
  const serviceDeploymentArn = arn(
    r.serviceDeploymentArn,
    `${at}serviceDeploymentArn`,
    ecsServiceDeploymentNames,
    'an ECS service deployment ARN',
  );
  const out: { -readonly [K in keyof PauseHookRef]: PauseHookRef[K] } = { hookId: r.hookId, serviceDeploymentArn };
  // The rest only helps; the gate reads the authoritative values from DescribeServiceDeployments.
  if (typeof r.lifecycleStage === 'string' && (ecsStages as readonly string[]).includes(r.lifecycleStage)) {
    out.lifecycleStage = r.lifecycleStage as EcsStage;
  }
  if (typeof r.clusterArn === 'string' && ecsClusterName(r.clusterArn) !== undefined) out.clusterArn = r.clusterArn;
  if (typeof r.serviceArn === 'string' && ecsServiceNames(r.serviceArn) !== undefined) out.serviceArn = r.serviceArn;
  if (typeof r.expiresAt === 'string') {
    const t = Date.parse(r.expiresAt);
    if (Number.isFinite(t)) out.expiresAt = t;
  }
  return out;
}

/** Cluster and service names from a service ARN (`service/cluster/name`, or the old `service/name`). */
export function serviceNames(serviceArn: string): { cluster?: string; service?: string } {
  return ecsServiceNames(serviceArn) ?? {};
}

/** Cluster and service names from a service deployment ARN (`service-deployment/cluster/service/id`). */
export function deploymentNames(serviceDeploymentArn: string): { cluster?: string; service?: string } {
  const names = ecsServiceDeploymentNames(serviceDeploymentArn);
  return names ? { cluster: names.cluster, service: names.service } : {};
}

function parseMaybeJson(event: unknown): unknown {
  if (typeof event !== 'string') {
    let size = 0;
    try {
      size = Buffer.byteLength(JSON.stringify(event) ?? '');
    } catch {
      throw new GateEventError('event is not JSON');
    }
    if (size > maxEventBytes) throw new GateEventError(`event is larger than ${maxEventBytes} bytes`);
    return event;
  }
  if (event.length > maxEventBytes) throw new GateEventError(`event is larger than ${maxEventBytes} bytes`);
  try {
    return JSON.parse(event);
  } catch {
    throw new GateEventError('event is a string that is not JSON');
  }
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GateEventError(`${path}: expected an object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

/** `value` when `read` (one of the ARN module's readers) understands it; else a `GateEventError` naming the field. */
function arn(value: unknown, path: string, read: (value: unknown) => unknown, what: string): string {
  if (typeof value !== 'string' || read(value) === undefined) {
    throw new GateEventError(`${path}: expected ${what}, got ${show(value)}`);
  }
  return value;
}

function weights(value: unknown, path: string): Record<string, number> {
  if (value === undefined || value === null) return {};
  const r = asObject(value, path);
  const entries = Object.entries(r);
  if (entries.length > 20) throw new GateEventError(`${path}: more than 20 revisions`);
  const out: Record<string, number> = {};
  for (const [revision, w] of entries) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 100) {
      throw new GateEventError(`${path}: the weight of ${revision} must be a number 0-100, got ${show(w)}`);
    }
    out[revision] = w;
  }
  return out;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return String(value);
}
