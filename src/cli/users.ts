import { userInfo } from 'node:os';
import type { AccountsContext, ClientInfo } from '../accounts/context.js';
import { deleteAccount } from '../accounts/deletion.js';
import { createResetToken, setPassword } from '../accounts/recovery.js';
import { markEmailVerified } from '../accounts/verification.js';
import { resetSecondFactor } from '../accounts/second-factor.js';
import type { LinkConfig } from '../config.js';
import { activateAccount, deactivateAccount } from '../accounts/deactivation.js';
import { findAccount } from '../accounts/lookup.js';
import { allSessions, revokeAllSessions, sessionView } from '../accounts/sessions.js';
import type { UserRecord } from '../accounts/storage.js';

export type UsersCommand =
  | 'show'
  | 'deactivate'
  | 'activate'
  | 'sessions'
  | 'logout-all'
  | 'set-password'
  | 'reset-link'
  | 'verify-email'
  | 'mfa-reset'
  | 'delete';

/** What the commands need beyond the context: the password from standard input, the reset link's form. */
export interface UsersCommandInput {
  readPassword: () => Promise<string>;
  links: LinkConfig;
}

/** The operator at the command line, as events record them: the OS user running `ras`. */
export function cliClient(): ClientInfo {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER;
  }
  return { ip: null, userAgent: null, actor: name ? { type: 'cli', name } : { type: 'cli' } };
}

/** No account has the email given on the command line (exit code 1). */
export class AccountNotFound extends Error {
  constructor(email: string) {
    super(`no account with email ${JSON.stringify(email)}`);
    this.name = 'AccountNotFound';
  }
}

/** Runs one `ras users <command> <email>` through the accounts domain. */
export async function runUsersCommand(
  command: UsersCommand,
  ctx: AccountsContext,
  email: string,
  input: UsersCommandInput,
): Promise<void> {
  const user = await findUser(ctx, email);
  const client = cliClient();
  switch (command) {
    case 'show': {
      const sessions = await allSessions(ctx, user.id);
      console.log(
        JSON.stringify({
          id: user.id,
          email: user.email,
          is_active: user.isActive,
          date_joined: new Date(user.dateJoined).toISOString(),
          sessions: sessions.length,
        }),
      );
      return;
    }
    case 'deactivate':
      if (!user.isActive) {
        console.log(`${user.email} (id ${user.id}) was already deactivated`);
        return;
      }
      await deactivateAccount(ctx, user.id, client);
      console.log(`deactivated ${user.email} (id ${user.id}); every session ended`);
      return;
    case 'activate':
      await activateAccount(ctx, user.id, client);
      console.log(`activated ${user.email} (id ${user.id})`);
      return;
    case 'sessions': {
      const sessions = await allSessions(ctx, user.id);
      if (sessions.length === 0) console.error(`${user.email} has no live session`);
      for (const session of sessions) console.log(JSON.stringify(sessionView(session)));
      return;
    }
    case 'logout-all': {
      const ended = await revokeAllSessions(ctx, user.id, client);
      console.log(`ended ${ended} session(s) of ${user.email}`);
      return;
    }
    case 'set-password':
      await setPassword(ctx, user, await input.readPassword(), client);
      console.log(`password of ${user.email} set; every session ended`);
      return;
    case 'reset-link': {
      const token = await createResetToken(ctx, user, input.links.resetTokenTtlMs);
      const minutes = Math.round(input.links.resetTokenTtlMs / 60_000);
      console.log(input.links.resetUrl ? input.links.resetUrl.replace('{token}', token) : token);
      console.error(
        `valid for ${minutes} minutes, once${input.links.resetUrl ? '' : ' (RESET_URL is not set: the token alone)'}`,
      );
      return;
    }
    case 'verify-email':
      await markEmailVerified(ctx, user, client);
      console.log(`${user.email} is verified`);
      return;
    case 'mfa-reset':
      console.log(
        (await resetSecondFactor(ctx, user, client))
          ? `second factors of ${user.email} removed (TOTP, recovery codes, passkeys); the password alone signs in`
          : `${user.email} had no second factor`,
      );
      return;
    case 'delete':
      await deleteAccount(ctx, user, client);
      console.log(`deleted ${user.email} (id ${user.id}), its sessions and tokens`);
      return;
  }
}

async function findUser(ctx: AccountsContext, email: string): Promise<UserRecord> {
  const user = await findAccount(ctx, email);
  if (!user) throw new AccountNotFound(email);
  return user;
}
