/**
 * The mails of the account's lifecycle, as the domain sees them. A change writes a *request* to the outbox in
 * its own transaction (what to send, to whom, under which credentials version), never the mail itself: the
 * link's token is minted, and the mail rendered, only when the deliverer sends it (see `prepareMail` in
 * mail-requests.ts), so no copy of the database holds a live link. How a mail reads (templates) and leaves
 * (SMTP) is mail/'s business.
 */
export type MailKind =
  | 'reset'
  | 'verify'
  | 'email_change'
  | 'email_taken'
  | 'email_changed'
  | 'password_changed'
  | 'account_deleted'
  | 'mfa_enabled'
  | 'mfa_disabled';

/** What a change asks to be mailed. */
export interface MailRequest {
  kind: MailKind;
  /** The account; null for a reset asked for an address (resolved at delivery) and the deletion notice. */
  userId: number | null;
  /** The address to write to (for `email_change`, the new address). */
  to: string;
  /**
   * For a link asked by the account's owner: the credentials version it was asked under. A change of password,
   * email or activation before delivery means the link is not sent at all.
   */
  credentialsVersion: number | null;
  /**
   * Deliver in the deliverer's next round rather than right after the commit. For the requests whose answer
   * must not tell whether an address has an account: the work of resolving them then lands on no request in
   * particular.
   */
  unhurried?: boolean;
}

export interface QueuedMail extends MailRequest {
  id: number;
  createdAt: number;
  attempts: number;
}

export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
}

/** A mail ready for the transport. */
export interface OutgoingMail extends ComposedMail {
  to: string;
}

export interface Mailer {
  /** The message of this kind, to `email`, with its link if it carries one. */
  compose(kind: MailKind, email: string, link?: { url: string; ttlMs: number }): ComposedMail;
  resetLink(token: string): string;
  verifyLink(token: string): string;
  resetTokenTtlMs: number;
  verifyTokenTtlMs: number;
}
