import { Metrics } from '@aws-lambda-powertools/metrics';
import { logger } from './logger.ts';

/** The namespace when POWERTOOLS_METRICS_NAMESPACE is unset (local runs); the template sets it. */
export const defaultMetricsNamespace = 'Greenlight';

const say =
  (level: 'debug' | 'info' | 'warn' | 'error') =>
  (...content: unknown[]): void =>
    logger[level](String(content[0]));

/**
 * The one Metrics instance: CloudWatch embedded metric format on stdout, flushed by the middleware
 * (cold start) and by each published verdict. Its warnings go through the one logger as JSON lines.
 */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || defaultMetricsNamespace,
  serviceName: 'greenlight',
  logger: {
    debug: say('debug'),
    info: say('info'),
    // The middleware flushes after every invocation; one without a verdict (an ignored event, IN_PROGRESS)
    // has nothing to flush, which is normal here and not worth a warning line each time.
    warn: (...content: unknown[]) =>
      /^No application metrics to publish/.test(String(content[0]))
        ? say('debug')(...content)
        : say('warn')(...content),
    error: say('error'),
  },
});

/** What publishing a verdict needs from Powertools' Metrics; tests may pass a recorder. */
export interface MetricsSink {
  addDimension(name: string, value: string): unknown;
  addMetric(name: string, unit: 'Count' | 'Milliseconds', value: number): unknown;
  publishStoredMetrics(): unknown;
}
