import type { Plan } from '../../../lib/plan/schema.ts';
import type { LocalLoadBalancer } from '../../../local/elb-setup.ts';
import type { EcsFake } from '../../../local/fakes/ecs.ts';
import type { Output } from '../../render.ts';
import type { DemoService } from '../demo-service.ts';
import type { Progress } from '../progress.ts';
import type { SignalHealth } from '../signals.ts';
import type { FlowResult } from '../types.ts';

/** What every flow shares: the demo service behind its load balancer, the plan, the output. */
export interface RehearsalContext {
  readonly out: Output;
  readonly service: DemoService;
  readonly loadBalancer: LocalLoadBalancer;
  readonly plan: Plan;
  readonly progress: Progress;
  /** The environment every function runs with: endpoints, plan, log level. */
  readonly environment: Readonly<Record<string, string>>;
  /** Shortened timings (tests). */
  readonly fast: boolean;
}

/**
 * One kind of deployment the rehearsal drives through the real function(s) that validate it.
 * `prepare` runs for every driver before any function is loaded: it starts the fakes the flow needs
 * and returns their endpoints (AWS_ENDPOINT_URL_<SERVICE>), because the SDK clients read them once.
 */
export interface Driver {
  readonly name: string;
  readonly title: string;
  prepare(setup: DriverSetup): Promise<PreparedDriver>;
}

export interface DriverSetup {
  readonly loadBalancer: LocalLoadBalancer;
  /** moto_server, when the rehearsal runs one. */
  readonly motoUrl: string | undefined;
  /** The ECS fake every flow shares (AWS_ENDPOINT_URL_ECS): native deployments, green task sets and tasks. */
  readonly ecs: EcsFake;
  /** How green's tasks, targets, alarms and metrics look in this scenario. */
  readonly signals: SignalHealth;
}

export interface PreparedDriver {
  /** AWS_ENDPOINT_URL_<SERVICE> variables for the fakes this flow started. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** One line per local endpoint, for the setup summary. */
  readonly notes: readonly string[];
  run(context: RehearsalContext): Promise<FlowResult>;
  close(): Promise<void>;
}
