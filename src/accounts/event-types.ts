/** The audit log's types (events.ts writes them); apart so storage and context can name them without a cycle. */
export const EVENT_TYPES = [
  'user.created',
  'user.login.succeeded',
  'user.login.failed',
  'user.logout',
  'session.revoked',
  'user.password.changed',
  'user.password.reset',
  'user.email.changed',
  'user.email.verified',
  'user.deactivated',
  'user.activated',
  'user.deleted',
  'user.mfa.enabled',
  'user.mfa.disabled',
  'passkey.added',
  'passkey.removed',
  'admin_key.created',
  'admin_key.revoked',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Who made the change: the account's owner, an operator at the command line, or an admin API key. */
export interface Actor {
  type: 'user' | 'cli' | 'admin_key';
  name?: string;
}

/** What an event says beyond its type: plain values, never a secret. */
export type EventData = Record<string, string | number | boolean | null>;

export interface NewEvent {
  uid: string;
  type: EventType;
  createdAt: number;
  userId: number | null;
  actor: Actor;
  ip: string | null;
  userAgent: string | null;
  data: EventData;
}

export interface EventRecord extends NewEvent {
  id: number;
}
