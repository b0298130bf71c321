import { Type } from '@sinclair/typebox';
import { KEY_BYTES } from '../crypto/secret-box.js';
import { type Environment, readEnv } from './env.js';

/** The key that seals the secrets Ras must read back (webhook signing secrets, TOTP secrets). */
const SecretsEnv = Type.Object({
  MFA_KEY: Type.Optional(
    Type.String({
      description:
        'Key sealing TOTP and webhook secrets at rest: 32 random bytes, base64 (`openssl rand -base64 32`); unset: no second factor, no webhooks',
    }),
  ),
  MFA_KEY_OLD: Type.Optional(
    Type.String({
      description:
        'The previous MFA_KEY during a rotation: read, never used to seal (see `ras secrets reseal`)',
    }),
  ),
});

export interface SecretsConfig {
  /** Null without MFA_KEY. */
  secretKeys: { current: Buffer; old: Buffer | null } | null;
}

export const SECRETS_VARIABLES = SecretsEnv.properties;

export function readSecretsConfig(environment: Environment, problems: string[]): SecretsConfig {
  const env = readEnv(SecretsEnv, environment, problems);
  const current = keyOf('MFA_KEY', env.MFA_KEY, problems);
  const old = keyOf('MFA_KEY_OLD', env.MFA_KEY_OLD, problems);
  if (old && !current) problems.push('MFA_KEY_OLD is set without MFA_KEY: set the new key too');
  return { secretKeys: current ? { current, old } : null };
}

function keyOf(name: string, value: string | undefined, problems: string[]): Buffer | null {
  if (value === undefined) return null;
  const key = Buffer.from(value, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || key.length !== KEY_BYTES) {
    problems.push(
      `${name}: must be ${KEY_BYTES} bytes in base64 (make one with \`openssl rand -base64 32\`)`,
    );
    return null;
  }
  return key;
}
