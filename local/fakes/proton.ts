import { FakeAwsError, type JsonFake, startJsonFake } from './json-server.ts';

/** How the fake answers CancelServicePipelineDeployment, per the API reference's three documented outcomes. */
export type CancelBehaviour =
  /** Cancelled at once. */
  | 'CANCELLED'
  /** The cancellation attempt failed: the deployment ends FAILED. */
  | 'FAILED'
  /** The deployment succeeded before the cancellation started: no effect. */
  | 'SUCCEEDED'
  /** Answers CANCELLING; the next GetService shows CANCELLED. */
  | 'CANCELLING';

export interface FakeProtonService {
  readonly name: string;
  status: string;
  pipeline?: {
    deploymentStatus: string;
    lastAttemptedDeploymentId: string;
    lastSucceededDeploymentId?: string;
  };
  cancelBehaviour: CancelBehaviour;
  /** What a CANCELLING deployment becomes at the next read. */
  settlesTo?: string;
  /** The deployment ends with this status an instant before the next cancel request arrives (a race). */
  finishesBeforeCancel?: string;
}

export interface ProtonFake extends JsonFake {
  readonly services: Map<string, FakeProtonService>;
  /** A service whose pipeline deployment `deploymentId` has `deploymentStatus`. */
  addService(
    name: string,
    pipeline: { deploymentStatus: string; deploymentId: string } | undefined,
    cancelBehaviour?: CancelBehaviour,
  ): FakeProtonService;
}

const epoch = 1_624_999_216; // JSON-protocol timestamps are epoch seconds.

/**
 * AWS Proton (JSON protocol, X-Amz-Target `AwsProton20200720.*`), which moto_server does not
 * implement: GetService and CancelServicePipelineDeployment. Cancelling a pipeline deployment that is
 * not IN_PROGRESS is refused with a ValidationException: Proton's reference documents the error, not
 * its message, and greenlight re-reads the pipeline rather than trust either.
 */
export async function startProtonFake(port?: number): Promise<ProtonFake> {
  const services = new Map<string, FakeProtonService>();
  const find = (name: unknown): FakeProtonService => {
    const s = services.get(String(name ?? ''));
    if (!s) throw new FakeAwsError('ResourceNotFoundException', `service ${String(name)} not found`);
    return s;
  };
  const pipelineOf = (s: FakeProtonService) =>
    s.pipeline
      ? {
          arn: `arn:aws:proton:us-east-1:123456789012:service/${s.name}/pipeline`,
          createdAt: epoch,
          lastDeploymentAttemptedAt: epoch + 60,
          lastDeploymentSucceededAt: epoch,
          templateName: 'fargate-service',
          templateMajorVersion: '1',
          templateMinorVersion: '0',
          deploymentStatus: s.pipeline.deploymentStatus,
          lastAttemptedDeploymentId: s.pipeline.lastAttemptedDeploymentId,
          ...(s.pipeline.lastSucceededDeploymentId
            ? { lastSucceededDeploymentId: s.pipeline.lastSucceededDeploymentId }
            : {}),
        }
      : undefined;
  const fake = await startJsonFake({
    ...(port !== undefined ? { port } : {}),
    operations: {
      GetService: (input) => {
        const s = find(input.name);
        if (s.pipeline && s.pipeline.deploymentStatus === 'CANCELLING' && s.settlesTo) {
          // A cancellation settles between two reads.
          s.pipeline.deploymentStatus = s.settlesTo;
          delete s.settlesTo;
        }
        const pipeline = pipelineOf(s);
        return {
          service: {
            name: s.name,
            arn: `arn:aws:proton:us-east-1:123456789012:service/${s.name}`,
            templateName: 'fargate-service',
            createdAt: epoch,
            lastModifiedAt: epoch + 60,
            status: s.status,
            spec: 'proton: ServiceSpec',
            ...(pipeline ? { pipeline } : {}),
          },
        };
      },
      CancelServicePipelineDeployment: (input) => {
        const s = find(input.serviceName);
        if (s.pipeline && s.finishesBeforeCancel) {
          s.pipeline.deploymentStatus = s.finishesBeforeCancel;
          delete s.finishesBeforeCancel;
        }
        const pipeline = s.pipeline?.deploymentStatus === 'IN_PROGRESS' ? s.pipeline : undefined;
        if (!pipeline) {
          throw new FakeAwsError(
            'ValidationException',
            `service pipeline of ${s.name} has no deployment in progress (${s.pipeline?.deploymentStatus ?? 'no pipeline'})`,
          );
        }
        if (s.cancelBehaviour === 'CANCELLING') {
          pipeline.deploymentStatus = 'CANCELLING';
          s.settlesTo = 'CANCELLED';
        } else {
          pipeline.deploymentStatus = s.cancelBehaviour;
        }
        return { pipeline: pipelineOf(s) };
      },
    },
  });
  return {
    ...fake,
    services,
    addService(name, pipeline, cancelBehaviour = 'CANCELLED') {
      const service: FakeProtonService = {
        name,
        status: pipeline?.deploymentStatus === 'IN_PROGRESS' ? 'UPDATE_IN_PROGRESS' : 'ACTIVE',
        cancelBehaviour,
        ...(pipeline
          ? {
              pipeline: {
                deploymentStatus: pipeline.deploymentStatus,
                lastAttemptedDeploymentId: pipeline.deploymentId,
              },
            }
          : {}),
      };
      services.set(name, service);
      return service;
    },
  };
}
