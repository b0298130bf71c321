import { adminKeyView, createAdminKey, parseScopes, revokeAdminKey } from '../accounts/admin-keys.js';
import type { AccountsContext } from '../accounts/context.js';
import { searchAccounts, operatorView, USER_PAGE } from '../accounts/operator.js';
import { cliClient } from './users.js';

export async function createAdminKeyCommand(
  ctx: AccountsContext,
  name: string,
  scopes: string,
): Promise<void> {
  const key = await createAdminKey(ctx, name, parseScopes(scopes), cliClient());
  console.log(key);
  console.error(`admin key ${name} created (${scopes}); the key above is shown only now`);
}

export async function listAdminKeysCommand(ctx: AccountsContext): Promise<void> {
  const keys = await ctx.store.adminKeys.list();
  if (keys.length === 0) console.error('no admin keys');
  for (const key of keys) console.log(JSON.stringify(adminKeyView(key)));
}

export async function revokeAdminKeyCommand(ctx: AccountsContext, name: string): Promise<boolean> {
  const revoked = await revokeAdminKey(ctx, name, cliClient());
  if (revoked) console.log(`admin key ${name} revoked: refused from the next request, on every instance`);
  else console.error(`ras: no admin key named ${name}`);
  return revoked;
}

/** `ras users list` / `ras users search <prefix>`: one JSON line per user, in id order. */
export async function listUsersCommand(
  ctx: AccountsContext,
  flags: { prefix?: string; after?: number; limit: number },
): Promise<void> {
  const page = await searchAccounts(ctx, {
    emailPrefix: flags.prefix?.trim().toLowerCase(),
    after: flags.after,
    limit: Math.min(flags.limit, USER_PAGE.max),
  });
  for (const user of page.rows) console.log(JSON.stringify(operatorView(user)));
  if (page.next !== null) console.error(`more: --after ${page.next}`);
}
