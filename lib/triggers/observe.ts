import type { EventsPort } from '../aws/events.ts';
import { errorMessage } from '../core/analyze.ts';
import type { Clock, Counters, Verdict } from '../core/types.ts';
import type { RemainingTime } from '../runtime/deadline.ts';
import type { Log } from '../runtime/logger.ts';
import type { MetricsSink } from '../runtime/metrics.ts';
import { publishVerdictsVariable, readBooleanSetting } from '../runtime/settings.ts';
import { ecsServiceNames } from '../spec/arn.ts';

/**
 * After a verdict is delivered: CloudWatch metrics (EMF) and one EventBridge event per verdict, so that
 * operators can chart it and route it to chat or tickets. Nothing here can change the verdict, and the
 * event is sent after the caller has it (for a return-valued hook, just before returning, bounded).
 */

export type TriggerName =
  | 'codedeploy-hook'
  | 'ecs-lifecycle-hook'
  | 'ecs-pause-gate'
  | 'codedeploy-wait-gate'
  | 'proton-pipeline-guard';

/** What a trigger learns about the deployment on its way to a verdict. */
export interface VerdictScope {
  /** The hook, ECS lifecycle stage, or wait the verdict is for. */
  stage?: string | undefined;
  /** The CodeDeploy `application/deployment group`, the ECS `cluster/service`, or the Proton service. */
  group?: string | undefined;
  /** In the event and logs only: never a metric dimension (one value per deployment). */
  deploymentId?: string | undefined;
}

export interface CheckRecord {
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  readonly dryRun: boolean;
  readonly reason: string;
  readonly counters: Omit<Counters, 'consecutivePasses' | 'consecutiveErrors'>;
}

/** One delivered verdict, as metrics and the verdict event describe it. */
export interface VerdictRecord {
  readonly trigger: TriggerName;
  readonly stage: string;
  readonly group: string;
  readonly deploymentId?: string;
  readonly verdict: 'pass' | 'fail';
  /** What the caller was told, in its own terms: `Failed`, `SUCCEEDED`, `ROLLBACK`, `StopDeployment`, ... */
  readonly decision: string;
  /** The analysis status behind it: pass, fail, inconclusive, error (or skipped). */
  readonly analysis: string;
  /** How the delivery went: `reported`, `already-completed`, `returned`, `cancelled`, ... */
  readonly delivery: string;
  readonly durationMs: number;
  /** The verdict's own reasons: built log-safe (no header values, query strings or secrets). */
  readonly reasons: readonly string[];
  readonly checks: readonly CheckRecord[];
}

/** Publishes a delivered verdict; never rejects, and gives up at `by` (epoch ms) at the latest. */
export type ObserveVerdict = (record: VerdictRecord, by: number) => Promise<void>;

export const verdictEventSource = 'greenlight';
export const verdictDetailType = 'Greenlight Verdict';
/** How long the event may take at most: an answer returned by value waits for it. */
export const publishTimeoutMs = 1_000;
const unknown = 'unknown';
const maxReasons = 20;
const maxChecks = 50;
const maxTextChars = 1_000;

/**
 * Publishes a delivered verdict through the trigger's observer, if it has one. A faulty observer is
 * logged and ignored: the verdict has already gone out.
 */
export async function publishVerdict(
  deps: { readonly observe?: ObserveVerdict | undefined; readonly log: Log },
  by: number,
  record: () => VerdictRecord,
): Promise<void> {
  if (!deps.observe) return;
  try {
    await deps.observe(record(), by);
  } catch (error) {
    deps.log.warn('could not publish the verdict', { error: errorMessage(error), errorName: (error as Error)?.name });
  }
}

/** The record of a verdict, from what the trigger knows. */
export function verdictRecord(
  trigger: TriggerName,
  verdict: Pick<Verdict, 'status' | 'reasons' | 'checks' | 'startedAt' | 'finishedAt'>,
  scope: VerdictScope,
  outcome: { readonly decision: string; readonly delivery: string; readonly analysis?: string },
): VerdictRecord {
  return {
    trigger,
    stage: scope.stage || unknown,
    group: scope.group || unknown,
    ...(scope.deploymentId ? { deploymentId: scope.deploymentId } : {}),
    verdict: verdict.status === 'pass' ? 'pass' : 'fail',
    decision: outcome.decision,
    analysis: outcome.analysis ?? verdict.status,
    delivery: outcome.delivery,
    durationMs: Math.max(0, verdict.finishedAt - verdict.startedAt),
    reasons: verdict.reasons.slice(0, maxReasons).map(clip),
    checks: verdict.checks.slice(0, maxChecks).map((c) => ({
      name: c.name,
      kind: c.kind,
      status: c.status,
      dryRun: c.dryRun,
      reason: clip(c.reason),
      counters: {
        taken: c.counters.taken,
        passes: c.counters.passes,
        failures: c.counters.failures,
        errors: c.counters.errors,
        inconclusives: c.counters.inconclusives,
      },
    })),
  };
}

/** A CodeDeploy deployment's `application/deployment group`: the dimension its verdicts are counted under. */
export function deploymentGroup(d: {
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
}): string | undefined {
  return d.applicationName && d.deploymentGroupName ? `${d.applicationName}/${d.deploymentGroupName}` : undefined;
}

/** `cluster/service` (or `service`, for old-style ARNs) from an ECS service ARN. */
export function ecsServiceGroup(serviceArn: string | undefined): string | undefined {
  const names = ecsServiceNames(serviceArn);
  if (!names) return undefined;
  return names.cluster === undefined ? names.service : `${names.cluster}/${names.service}`;
}

/** When a return-valued answer must be on its way: the invocation's end, less a margin to return. */
export function answerBy(context: RemainingTime, now: number): number {
  return now + Math.max(0, context.getRemainingTimeInMillis() - 500);
}

export interface ObserverDeps {
  readonly events: EventsPort;
  readonly metrics: MetricsSink;
  readonly log: Log;
  readonly clock: Clock;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The real observer: metrics first (a synchronous write to stdout), then the event with its own
 * timeout. Settings are read per call: GREENLIGHT_PUBLISH_VERDICTS=false turns the event off,
 * GREENLIGHT_EVENT_BUS names the bus (the default bus when unset).
 */
export function verdictObserver(deps: ObserverDeps): ObserveVerdict {
  const { log, clock } = deps;
  return async (record, by) => {
    try {
      emitMetrics(deps.metrics, record);
    } catch (error) {
      log.warn('could not emit verdict metrics', { error: errorMessage(error), errorName: (error as Error)?.name });
    }
    const env = deps.env ?? process.env;
    if (!publishes(env)) return;
    const left = Math.min(publishTimeoutMs, by - clock.now());
    if (left <= 0) {
      log.warn('no time left to publish the verdict event', { verdict: record.verdict });
      return;
    }
    const busName = env.GREENLIGHT_EVENT_BUS?.trim();
    try {
      const eventId = await deps.events.putEvent(
        {
          source: verdictEventSource,
          detailType: verdictDetailType,
          detail: JSON.stringify(eventDetail(record, env)),
          ...(busName ? { busName } : {}),
        },
        AbortSignal.timeout(left),
      );
      log.debug('published the verdict event', { eventId, bus: busName || 'default' });
    } catch (error) {
      log.warn('could not publish the verdict event; the verdict stands as delivered', {
        error: errorMessage(error),
        errorName: (error as Error)?.name,
        bus: busName || 'default',
      });
    }
  };
}

/** The event's `detail`: the record, and which function instance sent it. */
export function eventDetail(record: VerdictRecord, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  return {
    version: 1,
    function: record.trigger,
    ...(env.AWS_LAMBDA_FUNCTION_NAME ? { functionName: env.AWS_LAMBDA_FUNCTION_NAME } : {}),
    stage: record.stage,
    group: record.group,
    ...(record.deploymentId ? { deploymentId: record.deploymentId } : {}),
    verdict: record.verdict,
    decision: record.decision,
    analysis: record.analysis,
    delivery: record.delivery,
    durationMs: record.durationMs,
    reasons: record.reasons,
    checks: record.checks,
    notice: verdictNotice(record),
  };
}

/**
 * What a notification about a verdict says, ready for an EventBridge input transformer to put into an
 * email or a chat message (template.yaml's failure notifications). EventBridge does not escape the values
 * it inserts (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html),
 * so every field is safe inside a JSON string as it is: no quote, backslash, angle bracket or control
 * character. Built from the record's own log-safe reasons, bounded in size.
 */
export interface VerdictNotice {
  /** One line: `greenlight: AfterAllowTestTraffic of app/group failed (Failed)`. */
  readonly title: string;
  /** The deployment id, or `unknown`. */
  readonly deployment: string;
  /** Which deciding checks did not pass and why (the verdict's reasons), one line, ` | ` between them. */
  readonly checks: string;
  /** The same as Markdown bullets, one per line, the line breaks written `\n` for a JSON string template. */
  readonly checksMarkdown: string;
}

export const noticeLimits = { checks: 10, reasonChars: 300, titleChars: 200, deploymentChars: 600 } as const;

const analysisWords: Readonly<Record<string, string>> = {
  pass: 'passed',
  fail: 'failed',
  error: 'errored',
  inconclusive: 'was inconclusive',
};

/** The notice of a verdict (see `VerdictNotice`). */
export function verdictNotice(record: VerdictRecord): VerdictNotice {
  // The verdict's own reasons: one per deciding check that did not pass, with its last measurement.
  const all = record.reasons.length > 0 ? record.reasons : ['no reason given'];
  const lines = all.slice(0, noticeLimits.checks).map((l) => noticeText(l, noticeLimits.reasonChars));
  if (all.length > lines.length) lines.push(`and ${all.length - lines.length} more`);
  const outcome = analysisWords[record.analysis] ?? noticeText(record.analysis, 40);
  return {
    title: noticeText(
      `greenlight: ${record.stage} of ${record.group} ${outcome} (${record.decision})`,
      noticeLimits.titleChars,
    ),
    deployment: noticeText(record.deploymentId ?? unknown, noticeLimits.deploymentChars),
    checks: lines.join(' | '),
    checksMarkdown: lines.map((l) => `• ${l}`).join('\\n'),
  };
}

/** One line, at most `max` characters, with nothing an input transformer would have to escape. */
function noticeText(text: string, max: number): string {
  const safe = text
    // Excerpts arrive JSON-escaped (`\"`, `\\`, `\n`): shown as what they stand for, made safe.
    .replace(/\\(["\\nrt])/g, (_m, c: string) => (c === '"' ? "'" : c === '\\' ? '/' : ' '))
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replaceAll('"', "'")
    .replaceAll('\\', '/')
    .replaceAll('<', '‹')
    .replaceAll('>', '›');
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

/**
 * One EMF line per verdict (dimensions function, stage, group) and one per check (function, group,
 * check): all bounded by the plans and deployment groups, never by deployments.
 */
export function emitMetrics(metrics: MetricsSink, record: VerdictRecord): void {
  metrics.addDimension('function', record.trigger);
  metrics.addDimension('stage', record.stage);
  metrics.addDimension('group', record.group);
  metrics.addMetric('VerdictPassed', 'Count', record.verdict === 'pass' ? 1 : 0);
  metrics.addMetric('VerdictFailed', 'Count', record.verdict === 'fail' ? 1 : 0);
  metrics.addMetric('VerdictDuration', 'Milliseconds', record.durationMs);
  metrics.publishStoredMetrics();
  for (const check of record.checks) {
    metrics.addDimension('function', record.trigger);
    metrics.addDimension('group', record.group);
    metrics.addDimension('check', check.name);
    metrics.addMetric('CheckPassed', 'Count', check.status === 'pass' ? 1 : 0);
    // Failed, errored and inconclusive all kept the check from passing; errored is also counted apart.
    metrics.addMetric('CheckFailed', 'Count', notPassed.has(check.status) ? 1 : 0);
    metrics.addMetric('CheckErrored', 'Count', check.status === 'error' ? 1 : 0);
    metrics.addMetric('Measurements', 'Count', check.counters.taken);
    metrics.addMetric('MeasurementFailures', 'Count', check.counters.failures);
    metrics.addMetric('MeasurementErrors', 'Count', check.counters.errors);
    metrics.publishStoredMetrics();
  }
}

const notPassed = new Set(['fail', 'error', 'inconclusive']);

function clip(text: string): string {
  return text.length > maxTextChars ? `${text.slice(0, maxTextChars - 1)}…` : text;
}

/** GREENLIGHT_PUBLISH_VERDICTS; a value that is neither true nor false publishes (the verdict already failed naming it). */
function publishes(env: NodeJS.ProcessEnv): boolean {
  try {
    return readBooleanSetting(publishVerdictsVariable, env[publishVerdictsVariable], true);
  } catch {
    return true;
  }
}
