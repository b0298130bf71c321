import type { AccountsContext } from '../accounts/context.js';
import { activateAccount, deactivateAccount } from '../accounts/deactivation.js';
import { findAccount } from '../accounts/lookup.js';
import { allSessions, revokeAllSessions, sessionView } from '../accounts/sessions.js';
import type { UserRecord } from '../accounts/storage.js';

export type UsersCommand = 'show' | 'deactivate' | 'activate' | 'sessions' | 'logout-all';

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
): Promise<void> {
  const user = await findUser(ctx, email);
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
      await deactivateAccount(ctx, user.id);
      console.log(`deactivated ${user.email} (id ${user.id}); every session ended`);
      return;
    case 'activate':
      await activateAccount(ctx, user.id);
      console.log(`activated ${user.email} (id ${user.id})`);
      return;
    case 'sessions':
      for (const session of await allSessions(ctx, user.id)) {
        console.log(JSON.stringify(sessionView(session)));
      }
      return;
    case 'logout-all': {
      const ended = await revokeAllSessions(ctx, user.id);
      console.log(`ended ${ended} session(s) of ${user.email}`);
      return;
    }
  }
}

async function findUser(ctx: AccountsContext, email: string): Promise<UserRecord> {
  const user = await findAccount(ctx, email);
  if (!user) throw new AccountNotFound(email);
  return user;
}
