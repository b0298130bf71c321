#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * `ras`: the operator's command line. It reads the same environment as the server (DATABASE_URL above all)
 * and can run while the server does: SQLite is in WAL mode with a busy timeout, PostgreSQL is PostgreSQL.
 *
 * Exit codes: 0 done, 1 no such account, 2 usage error, 65 import finished with refused rows (unless
 * --allow-refusals), 69 database unreachable, 78 bad configuration.
 */
import { existsSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { VERSION } from './version.js';
import { StoreUnavailableError } from './accounts/storage.js';
import { ConfigError, loadConfig } from './config.js';
import { openServices, type Services } from './services.js';
import { isDatabaseUnavailable } from './store/database-errors.js';
import { migrateToLatest } from './store/migrate.js';
import { type ImportDjangoFlags, runImportDjango } from './cli/import.js';
import { refusedCount } from './import/report.js';
import { SourceUrlError } from './import/source.js';
import { AccountNotFound, runUsersCommand, type UsersCommand } from './cli/users.js';
import type { EventsListFlags } from './cli/events.js';
import { WebhookTargetError } from './webhooks/targets.js';
import { AdminKeyError } from './accounts/admin-keys.js';

const EXIT = { notFound: 1, usage: 2, refused: 65, unavailable: 69, config: 78 } as const;

const program = new Command('ras')
  .description('Ras accounts API: server and operator tools (configured by environment, see README)')
  .version(VERSION)
  .addHelpText(
    'after',
    '\nExit codes: 0 done, 1 no such account, 2 usage error, 65 import finished with refused rows,\n' +
      '69 database unreachable, 78 bad configuration.',
  )
  .showHelpAfterError()
  .exitOverride();

program
  .command('serve')
  .description('start the HTTP server (same as npm start)')
  .action(async () => {
    const { startServer } = await import('./server.js');
    await startServer();
  });

program
  .command('migrate')
  .description('bring the database schema up to date (the server also does this at start)')
  .action(async () => {
    const { openDatabase } = await import('./store/database.js');
    const database = await openDatabase(loadConfig().database, { poolMax: 1 });
    try {
      const applied = await migrateToLatest(database.db);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
    } finally {
      await database.close();
    }
  });

const users = program.command('users').description('inspect and manage accounts');
const userCommands: [UsersCommand, string][] = [
  ['show', 'print the account (never its password hash)'],
  ['deactivate', 'deactivate the account and end all its sessions at once'],
  ['activate', 'let a deactivated account log in again'],
  ['sessions', "list the account's live sessions"],
  ['logout-all', 'end every session of the account (it can log in again)'],
  ['set-password', 'set the password, read from standard input (the policy applies); every session ends'],
  ['reset-link', 'print a password reset link (RESET_URL with a new token): the way without mail'],
  ['verify-email', "mark the account's email as verified"],
  [
    'mfa-reset',
    'remove every second factor (TOTP, recovery codes, passkeys) of an owner who lost them; they are told by mail',
  ],
  ['delete', 'delete the account, its sessions and tokens (the email is free again)'],
];
for (const [name, description] of userCommands) {
  users
    .command(`${name} <email>`)
    .description(description)
    .action((email: string) =>
      withServices(({ ctx }) =>
        runUsersCommand(name, ctx, email, { readPassword: readStandardInput, links: loadConfig().links }),
      ),
    );
}

program
  .command('openapi')
  .description('print the OpenAPI 3.1 document of the API (what GET /openapi.json serves)')
  .action(async () => {
    const { buildApp } = await import('./app.js');
    const app = await buildApp(loadConfig({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent' }));
    await app.ready();
    console.log(JSON.stringify(app.swagger(), null, 2));
    await app.close();
  });

program
  .command('backup <destination>')
  .description(
    "copy the SQLite database to <destination> with SQLite's online backup API, while the server runs",
  )
  .action(async (destination: string) => {
    const { backupSqlite } = await import('./cli/backup.js');
    await backupSqlite(loadConfig().database, destination);
  });

program
  .command('restore <backup>')
  .description(
    'put a `ras backup` copy in place of the SQLite database (checked first; refused while a server has it open)',
  )
  .action(async (backup: string) => {
    const { restoreSqlite } = await import('./cli/restore.js');
    await restoreSqlite(loadConfig().database, backup);
  });

program
  .command('import')
  .description('bring accounts in from another system')
  .command('django')
  .description('import users, password hashes and DRF tokens from a Django database into DATABASE_URL')
  .requiredOption(
    '--from <url>',
    'the Django database: sqlite:<path>, postgres://…, mysql://… or mariadb://…',
  )
  .option('--table <name>', 'the user table', 'auth_user')
  .option('--email-column <name>', "the user table's email column", 'email')
  .option('--token-table <name>', 'the Django REST Framework token table', 'authtoken_token')
  .option('--dry-run', 'do everything in a transaction that is rolled back, and report', false)
  .option('--accept-unsalted', 'also import unsalted legacy hashes (md5, sha1, crypt)', false)
  .option('--batch-size <n>', 'rows per batch and transaction (a positive integer)', positiveInteger, 1000)
  .option('--json', 'print the report as JSON', false)
  .option('--allow-refusals', `exit 0 even when rows were refused (otherwise ${EXIT.refused})`, false)
  .action(async (flags: ImportDjangoFlags) => {
    const report = await runImportDjango(loadConfig(), flags);
    if (refusedCount(report) > 0 && !flags.allowRefusals) process.exitCode = EXIT.refused;
  });

program
  .command('events')
  .description('the audit log')
  .command('list')
  .description('print events, oldest first, one JSON object a line')
  .option('--user <email>', 'only the events of this account')
  .option('--type <type>', 'only events of this type (e.g. user.login.failed)')
  .option('--after <id>', 'only events after this one (an evt_… id: the next page)')
  .option('--limit <n>', 'at most this many (a positive integer)', positiveInteger, 100)
  .action(async (flags: EventsListFlags) => {
    const { listEventsCommand } = await import('./cli/events.js');
    await withServices(({ ctx }) => listEventsCommand(ctx, flags));
  });

users
  .command('list')
  .description('print users in id order, one JSON line each (never a hash)')
  .option('--after <id>', 'users after this id (the next page)', nonNegativeInteger)
  .option('--limit <n>', 'at most this many (at most 1000)', positiveInteger, 100)
  .action(async (flags: { after?: number; limit: number }) => {
    const { listUsersCommand } = await import('./cli/admin-keys.js');
    await withServices(({ ctx }) => listUsersCommand(ctx, flags));
  });
users
  .command('search <prefix>')
  .description('print users whose email starts with <prefix>, in id order')
  .option('--after <id>', 'users after this id (the next page)', nonNegativeInteger)
  .option('--limit <n>', 'at most this many (at most 1000)', positiveInteger, 100)
  .action(async (prefix: string, flags: { after?: number; limit: number }) => {
    const { listUsersCommand } = await import('./cli/admin-keys.js');
    await withServices(({ ctx }) => listUsersCommand(ctx, { ...flags, prefix }));
  });

const adminKeys = program.command('admin-keys').description('keys of the admin API (ADMIN_PORT)');
adminKeys
  .command('create <name>')
  .description('make a key; prints ras_admin_… once')
  .requiredOption('--scopes <list>', 'comma-separated: users:read, users:write, sessions:write, events:read')
  .action(async (name: string, flags: { scopes: string }) => {
    const { createAdminKeyCommand } = await import('./cli/admin-keys.js');
    await withServices(({ ctx }) => createAdminKeyCommand(ctx, name, flags.scopes));
  });
adminKeys
  .command('list')
  .description('print the keys: name, scopes, created, last used (never the key)')
  .action(async () => {
    const { listAdminKeysCommand } = await import('./cli/admin-keys.js');
    await withServices(({ ctx }) => listAdminKeysCommand(ctx));
  });
adminKeys
  .command('revoke <name>')
  .description('revoke a key: refused from the next request, on every instance')
  .action(async (name: string) => {
    const { revokeAdminKeyCommand } = await import('./cli/admin-keys.js');
    await withServices(async ({ ctx }) => {
      if (!(await revokeAdminKeyCommand(ctx, name))) process.exitCode = EXIT.notFound;
    });
  });

program
  .command('secrets')
  .description('the secrets sealed with MFA_KEY')
  .command('reseal')
  .description('after a key rotation (MFA_KEY new, MFA_KEY_OLD the old one), seal every secret under MFA_KEY')
  .action(async () => {
    const { resealSecrets } = await import('./cli/reseal.js');
    await withServices(async ({ ctx, database }) => {
      if (!ctx.secrets) throw new ConfigError(['MFA_KEY is not set: there is no key to seal with']);
      const done = await resealSecrets(database.db, ctx.secrets);
      console.log(
        `resealed ${done.totp} TOTP secret(s) and ${done.webhooks} webhook secret(s) under MFA_KEY`,
      );
    });
  });

const webhooks = program.command('webhooks').description('endpoints that receive events (Standard Webhooks)');
webhooks
  .command('add <url>')
  .description('add an endpoint (https, public address); prints its whsec_… signing secret once')
  .option(
    '--events <patterns>',
    'comma-separated: event types, prefixes like user.*, or * (the default)',
    '*',
  )
  .action(async (url: string, flags: { events: string }) => {
    const { addWebhookCommand } = await import('./cli/webhooks.js');
    const patterns = flags.events
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    await withServices(({ ctx }) => addWebhookCommand(ctx, loadConfig(), url, patterns));
  });
webhooks
  .command('list')
  .description('print the endpoints (never their secrets)')
  .action(async () => {
    const { listWebhooksCommand } = await import('./cli/webhooks.js');
    await withServices(({ ctx }) => listWebhooksCommand(ctx));
  });
webhooks
  .command('remove <id>')
  .description('remove an endpoint and its undelivered events')
  .action(async (id: string) => {
    const { removeWebhookCommand } = await import('./cli/webhooks.js');
    await withServices(({ ctx }) => removeWebhookCommand(ctx, positiveInteger(id)));
  });
webhooks
  .command('enable <id>')
  .description('turn an endpoint disabled after 3 days of failures back on')
  .action(async (id: string) => {
    const { enableWebhookCommand } = await import('./cli/webhooks.js');
    await withServices(({ ctx }) => enableWebhookCommand(ctx, positiveInteger(id)));
  });

function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new InvalidArgumentError('a whole number is required');
  return Number(value);
}

function positiveInteger(value: string): number {
  if (!/^[1-9]\d*$/.test(value) || Number(value) > 1_000_000)
    throw new InvalidArgumentError('a positive integer (at most 1,000,000) is required');
  return Number(value);
}

/** The password for `set-password`: standard input (never argv, which other users can read), one line. */
async function readStandardInput(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('new password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function withServices(work: (services: Services) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const { database } = config;
  // Run from the wrong folder, the default sqlite:./data/ras.db would silently be a new, empty database.
  if (database.dialect === 'sqlite' && database.filename !== ':memory:' && !existsSync(database.filename))
    console.error(
      `ras: warning: no database at ${database.filename}; creating a new, empty one (is DATABASE_URL right?)`,
    );
  const services = await openServices(config, { poolMax: 2 });
  try {
    await work(services);
  } finally {
    await services.close();
  }
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT.usage;
  if (
    error instanceof SourceUrlError ||
    error instanceof WebhookTargetError ||
    error instanceof AdminKeyError
  ) {
    console.error(`ras: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof AccountNotFound) {
    console.error(`ras: ${error.message}`);
    return EXIT.notFound;
  }
  if (error instanceof ConfigError) {
    console.error(`ras: ${error.message}`);
    return EXIT.config;
  }
  if (error instanceof StoreUnavailableError || isDatabaseUnavailable(error)) {
    const cause = error instanceof StoreUnavailableError ? error.cause : error;
    console.error(
      `ras: cannot reach the database: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    return EXIT.unavailable;
  }
  console.error(`ras: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeOf(error);
}
