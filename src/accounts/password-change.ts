import type { AccountsContext, ClientInfo } from './context.js';
import { verifyCredentials } from './credentials.js';
import { AccountError } from './errors.js';
import { acceptNewPassword } from './password-policy.js';
import { createSession } from './sessions.js';
import { queueMail } from './account-tokens.js';
import { recordEvent } from './events.js';
import type { ActiveSession } from './storage.js';

export interface PasswordChangeInput {
  current_password: unknown;
  new_password: unknown;
}

/**
 * Changes the password of the session's account (ASVS 6.2.2/6.2.3, 7.4.3): the new password must pass the
 * signup policy and the current one must be right. In one transaction it ends every session, the caller's
 * included, and opens a new one whose token is returned. The caller's session is deleted first and must
 * still exist, and the credentials must be the ones checked, so of two concurrent changes only one succeeds.
 */
export async function changePassword(
  ctx: AccountsContext,
  session: ActiveSession,
  input: PasswordChangeInput,
  client: ClientInfo,
): Promise<string> {
  const newPassword = acceptNewPassword(input.new_password, session.email);
  // A wrong current password counts as a failed login: a stolen token must not become a guessing oracle.
  const user = await verifyCredentials(ctx, session.email, input.current_password, client);
  const passwordHash = await ctx.passwords.hash(newPassword, client.signal);
  const token = await ctx.store.transaction(async (tx) => {
    if (!(await tx.sessions.deleteSessionOfUser(user.id, session.sessionId)))
      throw new AccountError('token_invalid');
    const checked = { userId: user.id, credentialsVersion: user.credentialsVersion };
    // The user row first, then its sessions: a login holding that row (sessions.store.ts) commits before.
    const credentialsVersion = await tx.users.changePasswordHash(checked, passwordHash, ctx.now());
    if (credentialsVersion === undefined) throw new AccountError('invalid_credentials', { userId: user.id });
    await tx.sessions.deleteSessionsOfUser(user.id);
    const { token } = await createSession(
      { ...ctx, store: tx },
      { userId: user.id, credentialsVersion },
      client,
    );
    await queueMail(ctx, tx, { userId: user.id, kind: 'password_changed', to: user.email });
    await recordEvent(ctx, tx, 'user.password.changed', { userId: user.id, client });
    return token;
  });
  return token;
}
