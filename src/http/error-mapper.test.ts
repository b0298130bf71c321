import { describe, expect, it } from 'vitest';
import { AccountError } from '../accounts/errors.js';
import { StoreUnavailableError } from '../accounts/storage.js';
import { toHttpAnswer } from './error-mapper.js';
import { HttpRefusal } from './refusals.js';

describe('toHttpAnswer', () => {
  it('says nothing internal in a 500', () => {
    const error = new Error('SELECT * FROM users WHERE secret at /srv/ras/src/store/users.store.ts:12');
    const answer = toHttpAnswer(error);
    expect(answer).toEqual({ status: 500, body: { status_code: 500, message: 'internal server error' } });
  });

  it('answers 503 when the store is unavailable, and knows no driver error itself', () => {
    const driverError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(toHttpAnswer(new StoreUnavailableError(driverError)).status).toBe(503);
    expect(toHttpAnswer(driverError).status).toBe(500);
  });

  it('answers the HTTP layer refusals in the seed bodies', () => {
    expect(toHttpAnswer(new HttpRefusal('credentials_missing'))).toMatchObject({
      status: 401,
      body: { detail: 'Authentication credentials were not provided.' },
    });
    expect(toHttpAnswer(new HttpRefusal('permission_denied')).status).toBe(403);
    expect(toHttpAnswer(new HttpRefusal('rate_limited', { retryAfterSeconds: 7 })).headers).toEqual({
      'retry-after': '7',
    });
  });

  it('puts Retry-After on a throttle', () => {
    const answer = toHttpAnswer(new AccountError('throttled', { retryAfterSeconds: 42 }));
    expect(answer.status).toBe(429);
    expect(answer.headers).toEqual({ 'retry-after': '42' });
  });
});
