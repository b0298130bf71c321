import { expect, it } from 'vitest';
import { AccountError } from './errors.js';

it('carries no stack trace, and leaves other errors theirs', () => {
  const limit = Error.stackTraceLimit;
  const refusal = new AccountError('token_invalid', { userId: 7 });
  expect(refusal.stack).toBe('AccountError: token_invalid');
  expect(refusal).toMatchObject({ code: 'token_invalid', userId: 7, message: 'token_invalid' });
  expect(Error.stackTraceLimit).toBe(limit);
  expect(new Error('fault').stack).toMatch(/\n\s+at /);
});
