/**
 * The AWS reads that more than one check kind shares, as ports: the check kinds declare what they ask,
 * lib/aws implements it (adapters import these types), and tests wire fakes. A port used by one kind
 * lives in that kind's own file instead (target-health, lambda-invoke, secrets, prometheus).
 */

export interface AlarmState {
  readonly name: string;
  readonly type: 'metric' | 'composite';
  /** `OK`, `ALARM` or `INSUFFICIENT_DATA`. */
  readonly state: string;
  readonly reason?: string;
  /** A metric alarm's period in seconds: its state changes at most once a period. */
  readonly periodSeconds?: number;
}

/** One metric of a GetMetricData query, or a metric math expression over other queries' ids. */
export interface MetricQuery {
  readonly id: string;
  readonly returnData: boolean;
  readonly metric?: {
    readonly namespace: string;
    readonly name: string;
    readonly dimensions: Readonly<Record<string, string>>;
    readonly stat: string;
    /** Seconds. */
    readonly period: number;
  };
  readonly expression?: string;
  /** Seconds; for expressions. */
  readonly period?: number;
}

export interface MetricSeries {
  readonly id: string;
  readonly label?: string;
  /** `Complete`, `PartialData`, `InternalError` or `Forbidden`. */
  readonly status: string;
  /** Newest first, paired with `timestamps` (epoch milliseconds). */
  readonly values: readonly number[];
  readonly timestamps: readonly number[];
  /** CloudWatch's own notes, such as an arithmetic error in an expression. */
  readonly messages: readonly string[];
}

/** What the CloudWatch checks ask of CloudWatch: reads only. */
export interface CloudWatchPort {
  /** Metric and composite alarms by exact names, or by name prefix. */
  alarms(query: { names: readonly string[] } | { prefix: string }, signal?: AbortSignal): Promise<AlarmState[]>;
  metricData(
    input: { queries: readonly MetricQuery[]; start: Date; end: Date },
    signal?: AbortSignal,
  ): Promise<MetricSeries[]>;
}

/** A CodeDeploy task set as the ecs-service check sees it. Missing counts stay absent: never guessed. */
export interface TaskSetState {
  readonly id: string;
  readonly status?: string;
  readonly stabilityStatus?: string;
  readonly desired?: number;
  readonly running?: number;
  readonly pending?: number;
}

/** The service deployment whose target is a given service revision (ECS native deployments). */
export interface RevisionDeploymentState {
  readonly serviceDeploymentArn: string;
  readonly status?: string;
  readonly statusReason?: string;
  readonly rollback: boolean;
  readonly requested?: number;
  readonly running?: number;
  readonly pending?: number;
}

export interface RevisionState {
  readonly arn: string;
  readonly taskDefinition?: string;
  /** Epoch milliseconds. */
  readonly createdAt?: number;
}

export interface ContainerState {
  readonly name: string;
  readonly lastStatus?: string;
  readonly exitCode?: number;
  readonly healthStatus?: string;
  readonly reason?: string;
}

export interface TaskState {
  readonly arn: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly healthStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  /** Epoch milliseconds. */
  readonly stoppedAt?: number;
  readonly startedBy?: string;
  readonly taskDefinitionArn?: string;
  readonly containers: readonly ContainerState[];
}

export interface TaskFailure {
  readonly arn?: string;
  readonly reason?: string;
  readonly detail?: string;
}

export interface TaskQuery {
  readonly cluster: string;
  readonly startedBy?: string;
  readonly serviceName?: string;
}

/** The container health checks of a task definition: what bounds how often a task's health can change. */
export interface TaskDefinitionHealth {
  readonly arn: string;
  /**
   * Seconds between two runs of each container health check the task definition declares (`healthCheck.interval`,
   * 5-300, ECS's default 30 when the health check omits it); empty when no container has a health check.
   */
  readonly healthCheckIntervals: readonly number[];
}

/** What the ECS checks ask of Amazon ECS: reads only. */
export interface EcsChecksPort {
  /** `undefined` when the service has no such task set. */
  taskSet(
    ref: { cluster: string; service: string; taskSet: string },
    signal?: AbortSignal,
  ): Promise<TaskSetState | undefined>;
  /**
   * The newest service deployment targeting `revisionArn`; `undefined` when there is none. With
   * `serviceDeploymentArn` (found before, or named by the event) it is described without listing, unless
   * ECS says that deployment targets another revision.
   */
  revisionDeployment(
    ref: { cluster: string; service: string; revisionArn: string; serviceDeploymentArn?: string },
    signal?: AbortSignal,
  ): Promise<RevisionDeploymentState | undefined>;
  /** `undefined` when ECS does not know the revision. */
  serviceRevision(revisionArn: string, signal?: AbortSignal): Promise<RevisionState | undefined>;
  /**
   * The ARNs of the tasks that match, by desired status (ListTasks, every page up to a bound); `truncated`
   * when there were more. https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
   */
  taskArns(
    query: TaskQuery & { readonly desiredStatus: 'RUNNING' | 'STOPPED' },
    signal?: AbortSignal,
  ): Promise<{ arns: string[]; truncated: boolean }>;
  /** These tasks described (DescribeTasks, 100 a call); `failures` as DescribeTasks reports them. */
  describeTasks(
    cluster: string,
    arns: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ tasks: TaskState[]; failures: TaskFailure[] }>;
  /**
   * A task definition's container health checks (DescribeTaskDefinition). A task definition revision never
   * changes: read it once. https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
   */
  taskDefinitionHealth(taskDefinition: string, signal?: AbortSignal): Promise<TaskDefinitionHealth>;
}
