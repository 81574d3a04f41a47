import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger. Level from POWERTOOLS_LOG_LEVEL (default INFO). */
export const logger = new Logger({ serviceName: 'greenlight' });

/** What triggers need from a logger; Powertools' Logger is one, tests pass a recorder. */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
  appendKeys(attributes: Record<string, unknown>): void;
}
