import type { AccountsContext, ClientInfo, SignedIn } from './context.js';
import { normalizeEmail } from './email.js';
import { AccountError } from './errors.js';
import { acceptNewPassword } from './password-policy.js';
import { createSession } from './sessions.js';
import { queueMail } from './account-tokens.js';
import { recordEvent } from './events.js';

export interface SignupInput {
  email: unknown;
  password: unknown;
}

/**
 * Creates an account and its first session. The email must be valid, the password must pass the policy,
 * and the email must be free: the unique index decides, so of twenty concurrent signups one wins.
 */
export async function signup(
  ctx: AccountsContext,
  input: SignupInput,
  client: ClientInfo,
): Promise<SignedIn> {
  const email = normalizeEmail(input.email);
  if (email === undefined) throw new AccountError('email_invalid');
  const password = acceptNewPassword(input.password, email);
  // A cheap early answer that spares the hash; the insert below is what actually guarantees uniqueness.
  if (await ctx.store.users.findUserByEmail(email)) throw new AccountError('email_taken');

  const passwordHash = await ctx.passwords.hash(password, client.signal);
  return ctx.store.transaction(async (tx) => {
    const id = await tx.users.insertUser({ email, passwordHash, dateJoined: ctx.now() });
    if (id === undefined) throw new AccountError('email_taken');
    const { token } = await createSession(
      { ...ctx, store: tx },
      { userId: id, credentialsVersion: 0 },
      client,
    );
    // With mail configured, the address is to be verified: its link leaves after the signup's commit.
    await queueMail(ctx, tx, { kind: 'verify', userId: id, to: email, credentialsVersion: 0 });
    await recordEvent(ctx, tx, 'user.created', { userId: id, client, data: { email } });
    return { user: { id, email }, token };
  });
}
