import type { FastifyInstance } from 'fastify';
import { timeStep, totpCode } from '../src/crypto/totp.js';
import { authHeader, PASSWORD, type TestAccount } from './helpers.js';

/** Turns TOTP on for the account through the API (enrol, then confirm a code of `now`). */
export async function enrolTotp(
  app: FastifyInstance,
  account: TestAccount,
  now = Date.now(),
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const enrol = await app.inject({
    method: 'POST',
    url: `/api/v1/users/${account.id}/mfa/totp/`,
    headers: authHeader(account.token),
    payload: { password: PASSWORD },
  });
  const { secret } = enrol.json<{ result: { secret: string } }>().result;
  const confirm = await app.inject({
    method: 'POST',
    url: `/api/v1/users/${account.id}/mfa/totp/confirm/`,
    headers: authHeader(account.token),
    payload: { code: totpCode(secret, timeStep(now)) },
  });
  if (confirm.statusCode !== 200) throw new Error(`enrolment failed: ${confirm.body}`);
  return {
    secret,
    recoveryCodes: confirm.json<{ result: { recovery_codes: string[] } }>().result.recovery_codes,
  };
}
