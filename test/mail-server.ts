import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A real SMTP server in the test process (smtp-server), every mail parsed with mailparser: what Ras sends
 * goes over SMTP exactly as to a relay.
 */
export async function startMailServer(port = 0) {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          for (const to of session.envelope.rcptTo) {
            received.push({
              to: to.address,
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
            });
          }
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = (server.server.address() as AddressInfo).port;
  return {
    port: address,
    url: `smtp://127.0.0.1:${address}`,
    received,
    /** The mails to `to` so far. */
    to: (to: string) => received.filter((m) => m.to === to),
    /** Waits until `count` mails to `to` have arrived (fails after `ms`). */
    async waitFor(to: string, count = 1, ms = 15_000): Promise<ReceivedMail[]> {
      const deadline = Date.now() + ms;
      while (received.filter((m) => m.to === to).length < count) {
        if (Date.now() > deadline) throw new Error(`no ${count} mail(s) to ${to} within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return received.filter((m) => m.to === to);
    },
    /** Waits for the `count`-th mail to `to` whose subject starts with `subject`; returns all such mails. */
    async waitForSubject(to: string, subject: string, count = 1, ms = 15_000): Promise<ReceivedMail[]> {
      const deadline = Date.now() + ms;
      const matching = () => received.filter((m) => m.to === to && m.subject.startsWith(subject));
      while (matching().length < count) {
        if (Date.now() > deadline)
          throw new Error(`no ${count} mail(s) "${subject}…" to ${to} within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return matching();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The token in a mail's link (`…?token=ras_…`). */
export function tokenIn(mail: ReceivedMail): string {
  const match = /token=(ras_[A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match) throw new Error(`no token in: ${mail.text}`);
  return match[1]!;
}

/** The variables of an app that mails through the test relay at `smtpUrl` (the links point nowhere real). */
export function mailEnv(smtpUrl: string): Record<string, string> {
  return {
    SMTP_URL: smtpUrl,
    RESET_URL: 'https://app.example.com/reset?token={token}',
    VERIFY_URL: 'https://app.example.com/verify?token={token}',
  };
}
