import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComposedMail, MailKind } from '../accounts/mail.js';

/** A mail's text: `{{app}}`, `{{link}}`, `{{email}}` and `{{hours}}` are replaced (escaped in the HTML form). */
interface Template {
  subject: string;
  text: string;
  html: string;
}

const BUILT_IN: Record<MailKind, Template> = {
  reset: {
    subject: 'Reset your {{app}} password',
    text: 'Someone asked to reset the password of your {{app}} account ({{email}}).\n\nTo choose a new password, open this link within {{hours}}:\n{{link}}\n\nIf it was not you, ignore this mail: your password stays as it is. Every session of the account ends when the password is reset.\n',
    html: '<p>Someone asked to reset the password of your {{app}} account ({{email}}).</p><p><a href="{{link}}">Choose a new password</a> within {{hours}}.</p><p>If it was not you, ignore this mail: your password stays as it is. Every session of the account ends when the password is reset.</p>',
  },
  verify: {
    subject: 'Confirm your email address for {{app}}',
    text: 'Please confirm that {{email}} is your address for {{app}} by opening this link within {{hours}}:\n{{link}}\n\nIf you did not sign up, ignore this mail.\n',
    html: '<p>Please confirm that {{email}} is your address for {{app}}.</p><p><a href="{{link}}">Confirm my address</a> (within {{hours}}).</p><p>If you did not sign up, ignore this mail.</p>',
  },
  email_change: {
    subject: 'Confirm your new email address for {{app}}',
    text: 'Someone asked to make {{email}} the address of a {{app}} account. To confirm, open this link within {{hours}}:\n{{link}}\n\nIf it was not you, ignore this mail: nothing changes.\n',
    html: '<p>Someone asked to make {{email}} the address of a {{app}} account.</p><p><a href="{{link}}">Confirm the new address</a> (within {{hours}}).</p><p>If it was not you, ignore this mail: nothing changes.</p>',
  },
  email_taken: {
    subject: 'Someone tried to use your email address on {{app}}',
    text: 'Someone asked to make {{email}} the address of another {{app}} account. This address already belongs to an account, so nothing changed.\n\nIf it was not you, you need not do anything.\n',
    html: '<p>Someone asked to make {{email}} the address of another {{app}} account. This address already belongs to an account, so nothing changed.</p><p>If it was not you, you need not do anything.</p>',
  },
  email_changed: {
    subject: 'Your {{app}} email address was changed',
    text: 'The address of your {{app}} account is no longer {{email}}: it was changed to a new one, confirmed from that address.\n\nIf it was not you, contact the operator of {{app}} at once.\n',
    html: '<p>The address of your {{app}} account is no longer {{email}}: it was changed to a new one, confirmed from that address.</p><p>If it was not you, contact the operator of {{app}} at once.</p>',
  },
  password_changed: {
    subject: 'Your {{app}} password was changed',
    text: 'The password of your {{app}} account ({{email}}) was just changed, and every session of the account ended.\n\nIf it was not you, reset your password at once and contact the operator of {{app}}.\n',
    html: '<p>The password of your {{app}} account ({{email}}) was just changed, and every session of the account ended.</p><p>If it was not you, reset your password at once and contact the operator of {{app}}.</p>',
  },
  mfa_enabled: {
    subject: 'Two-factor authentication is on for your {{app}} account',
    text: 'Two-factor authentication was just turned on for your {{app}} account ({{email}}): signing in now also asks for a code from your authenticator app, or one of your recovery codes.\n\nIf it was not you, reset your password at once and contact the operator of {{app}}.\n',
    html: '<p>Two-factor authentication was just turned on for your {{app}} account ({{email}}): signing in now also asks for a code from your authenticator app, or one of your recovery codes.</p><p>If it was not you, reset your password at once and contact the operator of {{app}}.</p>',
  },
  mfa_disabled: {
    subject: 'Two-factor authentication is off for your {{app}} account',
    text: 'Two-factor authentication was just turned off for your {{app}} account ({{email}}): signing in now asks for the password alone, and your recovery codes no longer work.\n\nIf it was not you, reset your password at once and contact the operator of {{app}}.\n',
    html: '<p>Two-factor authentication was just turned off for your {{app}} account ({{email}}): signing in now asks for the password alone, and your recovery codes no longer work.</p><p>If it was not you, reset your password at once and contact the operator of {{app}}.</p>',
  },
  account_deleted: {
    subject: 'Your {{app}} account was deleted',
    text: 'Your {{app}} account ({{email}}) was deleted, with every session of it.\n\nIf it was not you, contact the operator of {{app}}.\n',
    html: '<p>Your {{app}} account ({{email}}) was deleted, with every session of it.</p><p>If it was not you, contact the operator of {{app}}.</p>',
  },
};

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface MailValues {
  app: string;
  email: string;
  link?: string;
  hours?: string;
}

function fill(template: string, values: MailValues, escape: (v: string) => string): string {
  return template.replace(/\{\{(app|email|link|hours)\}\}/g, (_, key: keyof MailValues) =>
    escape(values[key] ?? ''),
  );
}

/**
 * The mails Ras sends, built in and overridable: a folder with `<kind>.subject.txt`, `<kind>.txt` and
 * `<kind>.html` (any of them) replaces those parts of that kind. Read once, at start.
 */
export function loadTemplates(folder: string | null): (kind: MailKind, values: MailValues) => ComposedMail {
  const templates: Record<MailKind, Template> = { ...BUILT_IN };
  if (folder) {
    if (!existsSync(folder)) throw new Error(`MAIL_TEMPLATES_DIR ${folder} does not exist`);
    for (const kind of Object.keys(BUILT_IN) as MailKind[]) {
      const read = (suffix: string) => {
        const path = join(folder, `${kind}${suffix}`);
        return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
      };
      templates[kind] = {
        subject: read('.subject.txt')?.trim() ?? BUILT_IN[kind].subject,
        text: read('.txt') ?? BUILT_IN[kind].text,
        html: read('.html') ?? BUILT_IN[kind].html,
      };
    }
  }
  return (kind, values) => {
    const template = templates[kind];
    return {
      subject: fill(template.subject, values, (v) => v.replace(/[\r\n]/g, ' ')),
      text: fill(template.text, values, (v) => v),
      html: fill(template.html, values, escapeHtml),
    };
  };
}
