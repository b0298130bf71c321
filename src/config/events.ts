import { Type } from '@sinclair/typebox';
import { type Environment, readEnv } from './env.js';

/** The audit log's retention and what webhook targets may be. */
const EventsEnv = Type.Object({
  EVENTS_RETENTION_DAYS: Type.Integer({
    default: 90,
    minimum: 1,
    maximum: 36_500,
    description:
      'Days an event is kept in the audit log (one still being delivered to a webhook stays until then)',
  }),
  WEBHOOK_ALLOW_PRIVATE: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    default: 'off',
    description:
      'on allows webhook URLs over http and to private, loopback and link-local addresses (internal networks, tests)',
  }),
});

export interface EventsConfig {
  eventsRetentionMs: number;
  webhookAllowPrivate: boolean;
}

export const EVENTS_VARIABLES = EventsEnv.properties;

export function readEventsConfig(environment: Environment, problems: string[]): EventsConfig {
  const env = readEnv(EventsEnv, environment, problems);
  return {
    eventsRetentionMs: env.EVENTS_RETENTION_DAYS * 24 * 60 * 60 * 1000,
    webhookAllowPrivate: env.WEBHOOK_ALLOW_PRIVATE === 'on',
  };
}
