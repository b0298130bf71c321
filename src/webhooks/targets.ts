/**
 * Where webhooks may go (SSRF, ASVS V1.3.6/V15.3.2): https only, to public addresses only, unless
 * WEBHOOK_ALLOW_PRIVATE=on. The address is checked twice: when the endpoint is added (its name must resolve
 * to public addresses) and at every connection, on the very addresses the connection uses (`guardedLookup`),
 * so a name that resolves to a public address when added and to 127.0.0.1 later (DNS rebinding) is refused.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A webhook URL Ras refuses, with the reason. */
export class WebhookTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetError';
  }
}

/** Global unicast only: no loopback, private, link-local, carrier-grade NAT, multicast or reserved range. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** The host of a URL as a connection uses it (an IPv6 literal without its brackets). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Parses and checks the form of a webhook URL (no lookup); returns it normalized. */
export function parseWebhookUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError(`not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    throw new WebhookTargetError(
      allowPrivate
        ? 'a webhook URL must be http or https'
        : 'a webhook URL must be https (WEBHOOK_ALLOW_PRIVATE=on allows http)',
    );
  if (url.username || url.password) throw new WebhookTargetError('a webhook URL must not carry credentials');
  if (url.href.length > 2048) throw new WebhookTargetError('a webhook URL must be at most 2048 characters');
  const host = hostOf(url);
  if (!allowPrivate && isIP(host) && !isPublicAddress(host))
    throw new WebhookTargetError(`${host} is not a public address (WEBHOOK_ALLOW_PRIVATE=on allows it)`);
  return url;
}

/** Checks that the URL's host resolves, and (unless allowed) only to public addresses. */
export async function checkWebhookTarget(raw: string, allowPrivate: boolean): Promise<URL> {
  const url = parseWebhookUrl(raw, allowPrivate);
  const host = hostOf(url);
  if (isIP(host)) return url;
  let addresses: LookupAddress[];
  try {
    addresses = await lookupAll(host, { all: true });
  } catch {
    throw new WebhookTargetError(`${host} does not resolve`);
  }
  refusePrivate(host, addresses, allowPrivate);
  return url;
}

function refusePrivate(host: string, addresses: LookupAddress[], allowPrivate: boolean): void {
  if (allowPrivate) return;
  const refused = addresses.find((a) => !isPublicAddress(a.address));
  if (refused)
    throw new WebhookTargetError(
      `${host} resolves to ${refused.address}, not a public address (WEBHOOK_ALLOW_PRIVATE=on allows it)`,
    );
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `http.request` that resolves as usual and refuses the connection when any address is not
 * public: the check is made on the addresses actually connected to.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      try {
        refusePrivate(hostname, addresses, allowPrivate);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} does not resolve`), []);
      callback(null, first.address, first.family);
    });
  };
}
