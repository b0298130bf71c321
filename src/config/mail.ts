import { Type } from '@sinclair/typebox';
import { type Environment, readEnv } from './env.js';

/** Mail, the links it carries, and whether an address must be verified before the account is used. */
const MailEnv = Type.Object({
  SMTP_URL: Type.String({
    default: '',
    description:
      'smtp://user:pass@host:587 (STARTTLS when offered), smtps:// (implicit TLS), or log: (mails to the log, development only); empty: no mail',
  }),
  MAIL_FROM: Type.String({
    default: 'Ras <no-reply@localhost>',
    minLength: 3,
    description: 'Sender of every mail',
  }),
  APP_NAME: Type.String({ default: 'Ras', minLength: 1, description: 'Product name in mails' }),
  MAIL_TEMPLATES_DIR: Type.String({
    default: '',
    description:
      'Folder of <kind>.subject.txt / <kind>.txt / <kind>.html files overriding the built-in mails',
  }),
  RESET_URL: Type.String({
    default: '',
    description: 'Password reset link, with {token}: https://app.example.com/reset-password?token={token}',
  }),
  VERIFY_URL: Type.String({
    default: '',
    description: 'Email verification link, with {token}: https://app.example.com/verify-email?token={token}',
  }),
  RESET_TOKEN_TTL: Type.Integer({
    default: 3600,
    minimum: 60,
    description: 'Reset link lifetime, in seconds',
  }),
  VERIFY_TOKEN_TTL: Type.Integer({
    default: 86400,
    minimum: 60,
    description: 'Verification (and email change) link lifetime, in seconds',
  }),
  REQUIRE_VERIFIED_EMAIL: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    default: 'off',
    description:
      'on: until the address is verified, the token opens only account, resend, logout and delete, and a correct login is 403',
  }),
});

type Env = (typeof MailEnv)['static'];

export interface MailConfig {
  /** A nodemailer SMTP URL, or `log:`. */
  smtpUrl: string;
  from: string;
  appName: string;
  templatesDir: string | null;
}

export interface LinkConfig {
  /** With `{token}` in it; null when not configured (then only SMTP_URL=log: supplies a development one). */
  resetUrl: string | null;
  verifyUrl: string | null;
  resetTokenTtlMs: number;
  verifyTokenTtlMs: number;
}

export interface MailSettings {
  /** Null without SMTP_URL: no mail is sent, and the reset route answers 503. */
  mail: MailConfig | null;
  /** The links of account tokens (RESET_URL, VERIFY_URL) and their lifetimes; the CLI prints reset links too. */
  links: LinkConfig;
  requireVerifiedEmail: boolean;
  /** APP_NAME: the product name in mails and the issuer in authenticator apps. */
  appName: string;
}

export const MAIL_VARIABLES = MailEnv.properties;

export function readMailConfig(environment: Environment, problems: string[]): MailSettings {
  const env = readEnv(MailEnv, environment, problems);
  return {
    mail: parseMail(env, problems),
    links: parseLinks(env, problems),
    requireVerifiedEmail: env.REQUIRE_VERIFIED_EMAIL === 'on',
    appName: env.APP_NAME,
  };
}

function parseMail(env: Env, problems: string[]): MailConfig | null {
  if (env.SMTP_URL === '') return null;
  if (!/^(smtps?:\/\/\S+|log:)$/.test(env.SMTP_URL))
    problems.push('SMTP_URL must be smtp://…, smtps://… or log:');
  return {
    smtpUrl: env.SMTP_URL,
    from: env.MAIL_FROM,
    appName: env.APP_NAME,
    templatesDir: env.MAIL_TEMPLATES_DIR || null,
  };
}

/** With mail configured both links are required (SMTP_URL=log: has development defaults). */
function parseLinks(env: Env, problems: string[]): LinkConfig {
  const development = env.SMTP_URL === 'log:';
  const link = (name: 'RESET_URL' | 'VERIFY_URL', path: string): string | null => {
    const value = env[name] || (development ? `http://localhost/${path}?token={token}` : '');
    if (value === '') {
      if (env.SMTP_URL !== '')
        problems.push(`${name} is required with SMTP_URL (a http(s) URL containing {token})`);
      return null;
    }
    if (!/^https?:\/\/\S+$/.test(value) || !value.includes('{token}'))
      problems.push(`${name}=${JSON.stringify(value)}: must be a http(s) URL containing {token}`);
    return value;
  };
  return {
    resetUrl: link('RESET_URL', 'reset-password'),
    verifyUrl: link('VERIFY_URL', 'verify-email'),
    resetTokenTtlMs: env.RESET_TOKEN_TTL * 1000,
    verifyTokenTtlMs: env.VERIFY_TOKEN_TTL * 1000,
  };
}
