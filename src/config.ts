/**
 * The configuration: every environment variable Ras reads, in one typed object loaded once (nothing else reads
 * process.env). Each concern reads its own variables and lists its own problems (config/server.ts,
 * config/database.ts, config/accounts.ts, config/mail.ts, config/events.ts, config/secrets.ts,
 * config/webauthn.ts, each with a TypeBox schema giving defaults and
 * meanings); this collects them, so a bad start lists every bad variable at once.
 */
import { type AccountsConfig, ACCOUNTS_VARIABLES, readAccountsConfig } from './config/accounts.js';
import {
  DATABASE_VARIABLES,
  type DatabaseConfig,
  type DatabaseLocation,
  readDatabaseConfig,
} from './config/database.js';
import type { Environment } from './config/env.js';
import { EVENTS_VARIABLES, type EventsConfig, readEventsConfig } from './config/events.js';
import { readSecretsConfig, SECRETS_VARIABLES, type SecretsConfig } from './config/secrets.js';
import { MAIL_VARIABLES, type MailSettings, readMailConfig } from './config/mail.js';
import { readServerConfig, SERVER_VARIABLES, type ServerConfig } from './config/server.js';
import { readWebAuthnConfig, WEBAUTHN_VARIABLES, type WebAuthnConfig } from './config/webauthn.js';

export type { DatabaseLocation } from './config/database.js';
export { parseDatabaseUrl } from './config/database.js';
export type { LinkConfig, MailConfig } from './config/mail.js';

export type Config = ServerConfig &
  AccountsConfig &
  MailSettings &
  EventsConfig &
  SecretsConfig &
  WebAuthnConfig &
  Omit<DatabaseConfig, 'database'> & { database: DatabaseLocation };

/** Every variable Ras reads, by name (its schema: default, meaning); for docs and tests. */
export const VARIABLES = {
  ...SERVER_VARIABLES,
  ...DATABASE_VARIABLES,
  ...ACCOUNTS_VARIABLES,
  ...MAIL_VARIABLES,
  ...EVENTS_VARIABLES,
  ...SECRETS_VARIABLES,
  ...WEBAUTHN_VARIABLES,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from the environment; throws a `ConfigError` listing every bad variable. */
export function loadConfig(environment: Environment = process.env): Config {
  const problems: string[] = [];
  const server = readServerConfig(environment, problems);
  const { database, ...storage } = readDatabaseConfig(environment, problems);
  const accounts = readAccountsConfig(environment, problems);
  const mail = readMailConfig(environment, problems);
  const events = readEventsConfig(environment, problems);
  const secrets = readSecretsConfig(environment, problems);
  const webauthn = readWebAuthnConfig(environment, server.port, problems);
  if (problems.length > 0 || !database) throw new ConfigError(problems);
  return { ...server, database, ...storage, ...accounts, ...mail, ...events, ...secrets, ...webauthn };
}
