import { describe, expect, it } from 'vitest';
import { addressKeyOf, storableAddress } from './client-address.js';

describe('addressKeyOf', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:0:0:1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['x'.repeat(80), 'invalid'],
    ['', 'invalid'],
    [null, 'unknown'],
  ])('counts %j as %j', (ip, key) => {
    expect(addressKeyOf(ip)).toBe(key);
  });
});

describe('storableAddress', () => {
  it('keeps real addresses and drops anything else', () => {
    expect(storableAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(storableAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(storableAddress('x'.repeat(80))).toBeNull();
    expect(storableAddress('192.0.2.1, 198.51.100.1')).toBeNull();
    expect(storableAddress(null)).toBeNull();
  });
});
