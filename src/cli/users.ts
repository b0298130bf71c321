import type { Kysely } from 'kysely';
import { activateAccount, deactivateAccount } from '../accounts/deactivation.js';
import { normalizeEmail } from '../accounts/email.js';
import { AccountError } from '../accounts/errors.js';
import type { Store, UserRecord } from '../accounts/storage.js';
import type { Tables } from '../store/schema.js';
import { KyselyStore } from '../store/store.js';

export type UsersCommand = 'show' | 'deactivate' | 'activate' | 'sessions' | 'logout-all';

/** Every live session: at most SESSIONS_MAX from logins, plus any imported token. */
const ALL = { limit: 1_000_000 };
const iso = (ms: number) => new Date(ms).toISOString();

/** Runs one `ras users <command> <email>`; throws an AccountError when there is no such account. */
export async function runUsersCommand(
  command: UsersCommand,
  db: Kysely<Tables>,
  email: string,
): Promise<void> {
  const store = new KyselyStore(db);
  const user = await findUser(store, email);
  switch (command) {
    case 'show': {
      const sessions = await store.sessions.listActiveSessionsOfUser(user.id, Date.now(), ALL);
      const { id, isActive } = user;
      console.log(
        JSON.stringify({
          id,
          email: user.email,
          is_active: isActive,
          date_joined: iso(user.dateJoined),
          sessions: sessions.length,
        }),
      );
      return;
    }
    case 'deactivate':
      await deactivateAccount(store, user.id);
      console.log(`deactivated ${user.email} (id ${user.id}); every session ended`);
      return;
    case 'activate':
      await activateAccount(store, user.id);
      console.log(`activated ${user.email} (id ${user.id})`);
      return;
    case 'sessions':
      for (const s of await store.sessions.listActiveSessionsOfUser(user.id, Date.now(), ALL)) {
        console.log(
          JSON.stringify({
            id: s.id,
            created_at: iso(s.createdAt),
            expires_at: iso(s.expiresAt),
            last_seen_at: iso(s.lastSeenAt),
            user_agent: s.userAgent,
            ip: s.ip,
          }),
        );
      }
      return;
    case 'logout-all': {
      const ended = await store.sessions.deleteSessionsOfUser(user.id);
      console.log(`ended ${ended} session(s) of ${user.email}`);
      return;
    }
  }
}

async function findUser(store: Store, email: string): Promise<UserRecord> {
  const normalized = normalizeEmail(email);
  const user = normalized === undefined ? undefined : await store.users.findUserByEmail(normalized);
  if (!user)
    throw new AccountError('user_not_found', { reason: `no account with email ${JSON.stringify(email)}` });
  return user;
}
