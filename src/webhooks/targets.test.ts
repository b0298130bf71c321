import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sendWebhook } from './send.js';
import { guardedLookup, isPublicAddress } from './targets.js';

describe('webhook targets', () => {
  it('are public only when globally routable', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111'])
      expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd12:3456::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      '2001:db8::1',
      'not an address',
    ])
      expect(isPublicAddress(address), address).toBe(false);
  });

  it('are checked again on the addresses each connection resolves (DNS rebinding)', async () => {
    const refused = await new Promise<Error | null>((resolve) =>
      guardedLookup(false)('localhost', {}, (error) => resolve(error)),
    );
    expect(refused?.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1), not a public address/);
    const allowed = await new Promise<unknown>((resolve) =>
      guardedLookup(true)('localhost', {}, (error, address) => resolve(error ?? address)),
    );
    expect(allowed).toMatch(/^(127\.0\.0\.1|::1)$/);
  });

  it('never reach a private address at send time, whatever the URL was when added', async () => {
    let reached = 0;
    const server = createServer((_, response) => {
      reached++;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // A name that resolves to loopback now (rebinding), over https: refused before any connection.
      const outcome = await sendWebhook(`https://localhost:${port}/`, '{}', {}, false);
      expect(outcome).toEqual({ ok: false, reason: expect.stringMatching(/not a public address/) as string });
      expect(await sendWebhook(`http://127.0.0.1:${port}/`, '{}', {}, false)).toMatchObject({ ok: false });
      expect(reached).toBe(0);
      expect(await sendWebhook(`http://127.0.0.1:${port}/`, '{}', {}, true)).toEqual({
        ok: true,
        status: 200,
      });
      expect(reached).toBe(1);
    } finally {
      server.close();
    }
  });
});
