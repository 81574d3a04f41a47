import type { DeploymentWaitType } from '../../aws/codedeploy.ts';
import { clockSkewMs, StateError, seal, unseal } from '../../gate/carried-state.ts';
import { GateEventError } from '../../gate/errors.ts';
import { eventObject } from '../../gate/event.ts';

/**
 * What the CodeDeploy wait gate reads: an EventBridge `CodeDeploy Deployment State-change Notification`,
 * or the continuation the gate sent itself, sealed with the state key (`sealContinuation`).
 */

export type WaitPhase = 'watch' | 'bake';

/**
 * What a later invocation of the gate needs to go on. Sent as `{greenlightWaitGateContinuation: ...}`,
 * sealed (`issuedAt`, HMAC-SHA256 `mac`) with the state key.
 */
export interface WaitContinuation {
  readonly kind: 'codedeploy-wait-gate';
  readonly v: 2;
  readonly deploymentId: string;
  readonly wait: DeploymentWaitType;
  readonly phase: WaitPhase;
  /** Invocations of this chain so far. */
  readonly hop: number;
  /** Epoch ms at which the chain began (watch) or the wait was first seen (bake). */
  readonly since: number;
  /** The analysis so far (bake only), as `encodeState` wrote it. */
  readonly state?: unknown;
}

export type WaitInput =
  | {
      readonly kind: 'event';
      readonly deploymentId: string;
      readonly state: string;
      readonly detailType?: string;
      readonly time?: number;
    }
  /** As received: `deploymentId` and `wait` are a claim until the seal verifies, used only to ask CodeDeploy. */
  | {
      readonly kind: 'continuation';
      readonly raw: unknown;
      readonly deploymentId: string;
      readonly wait: DeploymentWaitType;
    };

export const deploymentStateChange = 'CodeDeploy Deployment State-change Notification';
/** The key of the payload the gate sends its next invocation. */
export const continuationKey = 'greenlightWaitGateContinuation';
const deploymentIdPattern = /^d-[A-Z0-9]{9}$/;
/** What a continuation's MAC covers, so that no other sealed payload verifies as one. */
const continuationPurpose = 'codedeploy-wait-gate-continuation';
/** Lambda keeps an asynchronous invocation's event at most 6 hours (maximum event age): older is expired. */
const maxContinuationAgeMs = 6 * 3_600_000;

/** A continuation at the start of a chain (no hop yet, nothing carried). */
export function freshContinuation(deploymentId: string, wait: DeploymentWaitType, phase: WaitPhase): WaitContinuation {
  return { kind: 'codedeploy-wait-gate', v: 2, deploymentId, wait, phase, hop: 0, since: 0 };
}

/** The payload that hands `c` to the next invocation, sealed with `key`. */
export function sealContinuation(c: WaitContinuation, key: Uint8Array, now: number): Record<string, unknown> {
  return { [continuationKey]: seal({ ...c }, key, continuationPurpose, now) };
}

export type OpenedContinuation =
  | { readonly kind: 'trusted'; readonly c: WaitContinuation }
  | { readonly kind: 'untrusted'; readonly reason: string };

/**
 * Verifies a continuation's seal under `key` and reads it; a continuation that does not verify, has
 * expired or is malformed is `untrusted`, with the reason.
 */
export function openContinuation(raw: unknown, key: Uint8Array, now: number): OpenedContinuation {
  try {
    const body = unseal(raw, key, continuationPurpose, now, maxContinuationAgeMs);
    const { c, problems } = readContinuation(body, now);
    if (problems.length > 0) return { kind: 'untrusted', reason: `malformed continuation: ${problems.join('; ')}` };
    return { kind: 'trusted', c };
  } catch (error) {
    if (!(error instanceof StateError)) throw error;
    return { kind: 'untrusted', reason: `continuation refused: ${error.message}` };
  }
}

/**
 * Reads a CodeDeploy deployment state-change event (unknown keys ignored) or a continuation.
 * Throws a `GateEventError` when no deployment id (and, for a continuation, no wait) can be read.
 */
export function readWaitInput(event: unknown): WaitInput {
  const record = eventObject(event, 256 * 1024);
  if (!record) {
    throw new GateEventError('malformed event: expected a CodeDeploy deployment state-change event');
  }
  if (record[continuationKey] !== undefined) return readClaim(record[continuationKey]);
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
    kind: 'event',
    deploymentId: d.deploymentId,
    state: clip(d.state),
    ...(typeof detailType === 'string' ? { detailType: clip(detailType) } : {}),
    ...(Number.isFinite(time) ? { time } : {}),
  };
}

function clip(text: string, max = 128): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The deployment and wait a continuation names, before anything about it is trusted. */
function readClaim(raw: unknown): WaitInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new GateEventError('malformed continuation: expected an object');
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.deploymentId !== 'string' || !deploymentIdPattern.test(r.deploymentId)) {
    throw new GateEventError('malformed continuation: deploymentId must be a deployment id');
  }
  if (r.wait !== 'READY_WAIT' && r.wait !== 'TERMINATION_WAIT') {
    throw new GateEventError('malformed continuation: wait must be READY_WAIT or TERMINATION_WAIT');
  }
  return { kind: 'continuation', raw, deploymentId: r.deploymentId, wait: r.wait };
}

/** Reads a verified continuation; `problems` lists what is wrong with it (a sealed one is ours: a bug). */
export function readContinuation(
  r: Record<string, unknown>,
  now: number,
): { c: WaitContinuation; problems: readonly string[] } {
  const problems: string[] = [];
  if (r.kind !== 'codedeploy-wait-gate' || r.v !== 2)
    problems.push('not a codedeploy-wait-gate continuation of version 2');
  const phase: WaitPhase = r.phase === 'watch' ? 'watch' : 'bake';
  if (r.phase !== 'watch' && r.phase !== 'bake') problems.push('phase must be watch or bake');
  if (phase === 'watch' && r.wait !== 'TERMINATION_WAIT') problems.push('only the termination wait is watched');
  const hop = typeof r.hop === 'number' && Number.isSafeInteger(r.hop) && r.hop >= 0 ? r.hop : 0;
  if (hop !== r.hop) problems.push('hop must be a whole number');
  const since = typeof r.since === 'number' && Number.isSafeInteger(r.since) ? r.since : 0;
  if (since !== r.since) problems.push('since must be epoch milliseconds');
  // A start in the future would never reach the watch limit or the wait's end.
  else if (since > now + clockSkewMs || since > (r.issuedAt as number)) problems.push('since is in the future');
  if (phase === 'bake' && r.state === undefined) problems.push('a bake continuation carries its analysis state');
  const c: WaitContinuation = {
    kind: 'codedeploy-wait-gate',
    v: 2,
    deploymentId: r.deploymentId as string,
    wait: r.wait as DeploymentWaitType,
    phase,
    hop,
    since,
    ...(r.state !== undefined ? { state: r.state } : {}),
  };
  return { c, problems };
}
