import { CancelServicePipelineDeploymentCommand, GetServiceCommand, ProtonClient } from '@aws-sdk/client-proton';
import { compact, lazy, sendOptions } from './lazy.ts';

/** A service pipeline as greenlight needs it: whose deployment, and how it stands. */
export interface ServicePipelineState {
  readonly serviceName: string;
  /** The service's own status (`ACTIVE`, `UPDATE_IN_PROGRESS`, ...). */
  readonly serviceStatus?: string;
  /** `IN_PROGRESS`, `SUCCEEDED`, `FAILED`, `CANCELLING`, `CANCELLED`, ...; absent when the service has no pipeline. */
  readonly deploymentStatus?: string;
  /** The pipeline deployment last attempted: the one in progress while `deploymentStatus` is `IN_PROGRESS`. */
  readonly deploymentId?: string;
  readonly message?: string;
}

/** What greenlight asks of AWS Proton (legacy: support ended on 2026-10-07). */
export interface ProtonPort {
  getServicePipeline(serviceName: string, signal?: AbortSignal): Promise<ServicePipelineState>;
  /**
   * Asks Proton to cancel the pipeline deployment in progress and returns the pipeline as Proton
   * answered. Errors are left to the caller, which re-reads the pipeline to tell "already finished" apart.
   */
  cancelServicePipelineDeployment(serviceName: string, signal?: AbortSignal): Promise<ServicePipelineState>;
}

export const protonClient = lazy(() => new ProtonClient({}));

export function protonAdapter(client: () => ProtonClient = protonClient): ProtonPort {
  return {
    async getServicePipeline(serviceName, signal) {
      const out = await client().send(new GetServiceCommand({ name: serviceName }), sendOptions(signal));
      const pipeline = out.service?.pipeline;
      return compact({
        serviceName,
        serviceStatus: out.service?.status,
        deploymentStatus: pipeline?.deploymentStatus,
        deploymentId: pipeline?.lastAttemptedDeploymentId,
        message: pipeline?.deploymentStatusMessage,
      });
    },

    async cancelServicePipelineDeployment(serviceName, signal) {
      const out = await client().send(new CancelServicePipelineDeploymentCommand({ serviceName }), sendOptions(signal));
      return compact({
        serviceName,
        deploymentStatus: out.pipeline?.deploymentStatus,
        deploymentId: out.pipeline?.lastAttemptedDeploymentId,
        message: out.pipeline?.deploymentStatusMessage,
      });
    },
  };
}
