import { isIP } from 'node:net';

/**
 * The part of a client's address that limits count. An IPv6 client usually holds a whole /64 (one customer's
 * LAN), so counting it per address would give it 2^64 fresh budgets: it is counted by its /64. IPv4 (and
 * IPv4-mapped IPv6) addresses count whole. A value that is not an address (a forged X-Forwarded-For entry
 * behind `TRUST_PROXY=true`) is counted under one shared key, so forging buys nothing.
 */
export function addressKeyOf(ip: string | null): string {
  if (ip === null) return 'unknown';
  switch (isIP(ip)) {
    case 4:
      return ip;
    case 6:
      return ipv6Key(ip);
    default:
      return 'invalid';
  }
}

function ipv6Key(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The address as stored on a session: a real IP address of at most 45 characters, or null. */
export function storableAddress(ip: string | null): string | null {
  return ip !== null && isIP(ip) !== 0 && ip.length <= 45 ? ip : null;
}

const MAX_USER_AGENT_LENGTH = 512;

/** The caller as a session or an event records it: a real address or null, the user agent cut to 512. */
export function recordedClient(client: { ip: string | null; userAgent: string | null }): {
  ip: string | null;
  userAgent: string | null;
} {
  return {
    ip: storableAddress(client.ip),
    userAgent: client.userAgent?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
  };
}
