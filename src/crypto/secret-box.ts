/**
 * Secrets Ras must read back (a webhook's signing secret; TOTP secrets) are sealed at rest with AES-256-GCM
 * under MFA_KEY: a copy of the database without the key reveals none. A sealed value names its key by a short
 * fingerprint, so after a rotation (MFA_KEY new, MFA_KEY_OLD the previous) values sealed under either open,
 * and `reseal` moves one to the current key. Each value is bound to its purpose and owner (the GCM additional
 * data), so a sealed webhook secret cannot be passed off as a TOTP secret, nor one account's secret as another's.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export type SealPurpose = 'webhook' | 'totp';

/** A key that cannot open a value: not sealed by this build, by another key, or tampered with. */
export class SealedValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedValueError';
  }
}

function fingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

export class SecretBox {
  readonly #current: Buffer;
  readonly #keys: Map<string, Buffer>;

  /** `current` seals and opens; `old` (a rotated-out key) only opens. */
  constructor(current: Buffer, old?: Buffer | null) {
    for (const key of [current, old])
      if (key && key.length !== KEY_BYTES) throw new RangeError('key must be 32 bytes');
    this.#current = current;
    this.#keys = new Map([[fingerprint(current), current]]);
    if (old) this.#keys.set(fingerprint(old), old);
  }

  /** `owner` binds the value to its row (a TOTP secret to its account). */
  seal(plaintext: string, purpose: SealPurpose, owner = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current, iv);
    cipher.setAAD(Buffer.from(`${purpose}:${owner}`));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    return `${FORMAT}.${fingerprint(this.#current)}.${sealed}`;
  }

  open(sealed: string, purpose: SealPurpose, owner = ''): string {
    const [format, keyId, data] = sealed.split('.');
    if (format !== FORMAT || !keyId || data === undefined) throw new SealedValueError('not a sealed value');
    const key = this.#keys.get(keyId);
    if (!key) throw new SealedValueError('sealed with a key that is neither MFA_KEY nor MFA_KEY_OLD');
    const bytes = Buffer.from(data, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${purpose}:${owner}`));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SealedValueError('sealed value does not open: tampered with, or another purpose');
    }
  }

  /** Whether the value is sealed under the current key (nothing to reseal). */
  isCurrent(sealed: string): boolean {
    return sealed.split('.')[1] === fingerprint(this.#current);
  }
}
