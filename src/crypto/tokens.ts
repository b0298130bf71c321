import { hash, randomBytes } from 'node:crypto';

/** Lets secret scanners (GitHub, GitLab, trufflehog rules) recognise a leaked Ras token. */
export const TOKEN_PREFIX = 'ras_';

/** 32 bytes (256 bits) from the CSPRNG, base64url: `ras_` + 43 URL-safe characters. */
export function generateToken(prefix = TOKEN_PREFIX): string {
  return prefix + randomBytes(32).toString('base64url');
}

/**
 * SHA-256, hex. A fast hash is right here, unlike for passwords: the token has 256 bits of entropy, so
 * nobody can guess their way from the stored hash back to it. The lookup is by hash through an index,
 * so no secret is compared in JavaScript and no constant-time compare is needed.
 */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}
