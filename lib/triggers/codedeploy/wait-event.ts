import type { DeploymentWaitType } from '../../aws/codedeploy.ts';
import { GateEventError } from '../../gate/errors.ts';
import { eventObject } from '../../gate/event.ts';

/** What the CodeDeploy wait gate reads: an EventBridge `CodeDeploy Deployment State-change Notification`. */
export interface WaitInput {
  readonly deploymentId: string;
  readonly state: string;
  readonly detailType?: string;
  /** The event's `time`, epoch ms: the invoker's word, logged and never used to count a wait. */
  readonly time?: number;
}

export const deploymentStateChange = 'CodeDeploy Deployment State-change Notification';
const deploymentIdPattern = /^d-[A-Z0-9]{9}$/;

/** The state-change event state that opens each wait: READY the ready wait, START the watch for the termination wait. */
export const waitStates = { READY_WAIT: 'READY', TERMINATION_WAIT: 'START' } as const satisfies Record<
  DeploymentWaitType,
  string
>;

/**
 * The event a wait's durable execution starts from: the deployment id and the state in a state-change
 * envelope, nothing else (no time), so that every delivery names the same execution with the same payload
 * (Lambda's idempotency), and `readWaitInput` reads it.
 */
export function waitStartEvent(deploymentId: string, wait: DeploymentWaitType): Record<string, unknown> {
  return {
    source: 'aws.codedeploy',
    'detail-type': deploymentStateChange,
    detail: { deploymentId, state: waitStates[wait] },
  };
}

/**
 * Reads a CodeDeploy deployment state-change event (unknown keys ignored). Throws a `GateEventError` when
 * no deployment id or state can be read: there is nothing to decide on.
 */
export function readWaitInput(event: unknown): WaitInput {
  const record = eventObject(event, 256 * 1024);
  if (!record) {
    throw new GateEventError('malformed event: expected a CodeDeploy deployment state-change event');
  }
  const detail = record.detail;
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    throw new GateEventError('malformed event: no detail object');
  }
  const d = detail as Record<string, unknown>;
  if (typeof d.deploymentId !== 'string' || !deploymentIdPattern.test(d.deploymentId)) {
    throw new GateEventError('malformed event: detail.deploymentId must be a deployment id (d-XXXXXXXXX)');
  }
  if (typeof d.state !== 'string' || d.state === '')
    throw new GateEventError('malformed event: detail.state is missing');
  const detailType = record['detail-type'];
  const time = typeof record.time === 'string' ? Date.parse(record.time) : Number.NaN;
  // Both end up in logs and answers: an oversized one is cut (it then matches nothing and is ignored).
  return {
    deploymentId: d.deploymentId,
    state: clip(d.state),
    ...(typeof detailType === 'string' ? { detailType: clip(detailType) } : {}),
    ...(Number.isFinite(time) ? { time } : {}),
  };
}

function clip(text: string, max = 128): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
