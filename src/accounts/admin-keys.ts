/**
 * Admin API keys: `ras_admin_` and 256 random bits, shown once, stored as SHA-256, named and scoped. A key is
 * looked up on every request (no cache), so revoking it (deleting its row) refuses it from the very next
 * request on every instance. Its last use is recorded at most once a minute.
 */
import { generateToken, hashToken } from '../crypto/tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { recordEvent } from './events.js';
import type { AdminKeyRecord, AdminScope } from './storage.js';

export const ADMIN_SCOPES: readonly AdminScope[] = [
  'users:read',
  'users:write',
  'sessions:write',
  'events:read',
];
const TOUCH_EVERY_MS = 60_000;

/** A key Ras refuses to make: a name taken or malformed, an unknown scope. */
export class AdminKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminKeyError';
  }
}

export function parseScopes(list: string): AdminScope[] {
  const scopes = [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = scopes.filter((s) => !(ADMIN_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0)
    throw new AdminKeyError(
      `scopes must be some of ${ADMIN_SCOPES.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`,
    );
  return scopes as AdminScope[];
}

/** Makes a key; returns it (the only time it is shown). */
export async function createAdminKey(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  name: string,
  scopes: AdminScope[],
  client: ClientInfo,
): Promise<string> {
  if (!/^[\w.@-]{1,100}$/.test(name))
    throw new AdminKeyError('a key name is 1 to 100 letters, digits, _ . @ -');
  const key = generateToken('ras_admin_');
  await ctx.store.transaction(async (tx) => {
    if (!(await tx.adminKeys.create({ name, keyHash: hashToken(key), scopes, now: ctx.now() })))
      throw new AdminKeyError(`a key named ${name} exists already`);
    await recordEvent(ctx, tx, 'admin_key.created', {
      userId: null,
      client,
      data: { name, scopes: scopes.join(',') },
    });
  });
  return key;
}

export function revokeAdminKey(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  name: string,
  client: ClientInfo,
): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    if (!(await tx.adminKeys.revoke(name))) return false;
    await recordEvent(ctx, tx, 'admin_key.revoked', { userId: null, client, data: { name } });
    return true;
  });
}

/** The key this bearer value is, if it exists now; its use is recorded (at most once a minute). */
export async function authenticateAdminKey(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  key: string,
): Promise<AdminKeyRecord | undefined> {
  if (!key.startsWith('ras_admin_') || key.length > 200) return undefined;
  const found = await ctx.store.adminKeys.findByHash(hashToken(key));
  if (found && (found.lastUsedAt === null || ctx.now() - found.lastUsedAt >= TOUCH_EVERY_MS))
    await ctx.store.adminKeys.touch(found.id, ctx.now(), ctx.now() - TOUCH_EVERY_MS);
  return found;
}

export function adminKeyView(key: AdminKeyRecord) {
  return {
    name: key.name,
    scopes: key.scopes,
    created_at: new Date(key.createdAt).toISOString(),
    last_used_at: key.lastUsedAt === null ? null : new Date(key.lastUsedAt).toISOString(),
  };
}
