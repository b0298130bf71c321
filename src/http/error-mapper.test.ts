import { describe, expect, it } from 'vitest';
import { AccountError } from '../accounts/errors.js';
import { toHttpAnswer } from './error-mapper.js';

describe('toHttpAnswer', () => {
  it('says nothing internal in a 500', () => {
    const error = new Error('SELECT * FROM users WHERE secret at /srv/ras/src/store/users.store.ts:12');
    const answer = toHttpAnswer(error);
    expect(answer).toEqual({ status: 500, body: { status_code: 500, message: 'internal server error' } });
  });

  it('answers 503 when the database is unreachable', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(toHttpAnswer(error).status).toBe(503);
    expect(toHttpAnswer(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' })).status).toBe(503);
  });

  it('puts Retry-After on a throttle', () => {
    const answer = toHttpAnswer(new AccountError('throttled', { retryAfterSeconds: 42 }));
    expect(answer.status).toBe(429);
    expect(answer.headers).toEqual({ 'retry-after': '42' });
  });
});
