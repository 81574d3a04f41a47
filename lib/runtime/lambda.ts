import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from './logger.ts';
import { metrics } from './metrics.ts';

/**
 * The one middleware chain every function uses: Lambda context in every log line, keys reset
 * per invocation; a ColdStart metric on the first invocation and whatever metrics are left flushed after
 * each. Early timeout is off: each trigger keeps its own reserve to deliver its verdict.
 */
export function lambdaHandler<TResult>(
  run: (event: unknown, context: Context) => Promise<TResult>,
): middy.MiddyfiedHandler<unknown, TResult, Error, Context> {
  return middy<unknown, TResult, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler((event, context) => run(event, context));
}
