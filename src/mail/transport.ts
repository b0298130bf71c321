import type { OutgoingMail } from '../accounts/mail.js';
import type { MailConfig } from '../config.js';
import type { DeliveryLog, MailTransport } from './deliverer.js';

/**
 * SMTP through Nodemailer (`smtp://` upgrades with STARTTLS when the server offers it, `smtps://` is TLS from
 * the start), or `log:`, which writes each mail to the log instead, for development only. Nodemailer is loaded
 * only when mail is configured.
 */
export async function openTransport(
  config: MailConfig,
  log: DeliveryLog & { info(fields: Record<string, unknown>, message: string): void },
): Promise<MailTransport> {
  if (config.smtpUrl === 'log:') {
    return {
      send: async (mail) =>
        log.info({ mail: { to: mail.to, subject: mail.subject, text: mail.text } }, 'mail (SMTP_URL=log:)'),
      close: () => undefined,
    };
  }
  const { createTransport } = await import('nodemailer');
  const transport = createTransport(config.smtpUrl, {
    from: config.from,
    // An unreachable relay fails a delivery attempt in seconds, not minutes; the outbox retries.
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 10_000,
  } as object);
  return {
    send: async (mail: OutgoingMail) => {
      await transport.sendMail({ to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
    },
    close: () => transport.close(),
  };
}
