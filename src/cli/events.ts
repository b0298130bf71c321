import type { AccountsContext } from '../accounts/context.js';
import { eventView, listEvents } from '../accounts/events.js';
import { findAccount } from '../accounts/lookup.js';
import { AccountNotFound } from './users.js';

export interface EventsListFlags {
  user?: string;
  type?: string;
  after?: string;
  limit: number;
}

/**
 * `ras events list`: the audit log, oldest first, one JSON object a line; when there is more than `limit`,
 * the `--after` that continues is written to standard error.
 */
export async function listEventsCommand(ctx: AccountsContext, flags: EventsListFlags): Promise<void> {
  let userId: number | undefined;
  if (flags.user !== undefined) {
    const user = await findAccount(ctx, flags.user);
    // A deleted account's events stay, under its id: `--user` finds only a live account by its email.
    if (!user) throw new AccountNotFound(flags.user);
    userId = user.id;
  }
  const page = await listEvents(
    ctx,
    { userId, type: flags.type, after: flags.after, limit: flags.limit },
    flags.limit,
  );
  for (const event of page.rows) console.log(JSON.stringify(eventView(event)));
  if (page.next !== null) console.error(`more: --after ${page.next}`);
}
