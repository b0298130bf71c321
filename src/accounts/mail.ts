/**
 * The mails of the account's lifecycle, as the domain sees them: it decides who gets which, writes each to
 * the outbox in the transaction of the change it reports, and wakes the deliverer after the commit. How a mail
 * reads (templates) and leaves (SMTP) is mail/'s business.
 */
export type MailKind =
  'reset' | 'verify' | 'email_change' | 'email_changed' | 'password_changed' | 'account_deleted';

export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** The message of this kind, to `email`, with its link if it carries one. */
  compose(kind: MailKind, email: string, link?: { url: string; ttlMs: number }): ComposedMail;
  resetLink(token: string): string;
  verifyLink(token: string): string;
  resetTokenTtlMs: number;
  verifyTokenTtlMs: number;
  /** Mails written in a transaction that has committed: deliver them now rather than at the next poll. */
  wake(): void;
}
