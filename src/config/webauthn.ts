import { domainToASCII } from 'node:url';
import { Type } from '@sinclair/typebox';
import { type Environment, readEnv } from './env.js';

/** The WebAuthn relying party: the domain passkeys are bound to and the origins allowed to use them. */
const WebAuthnEnv = Type.Object({
  WEBAUTHN_RP_ID: Type.String({
    default: 'localhost',
    description:
      'The domain passkeys are bound to (no scheme, no port), e.g. example.com; every origin must be on it or a subdomain. Cannot change once passkeys exist',
  }),
  WEBAUTHN_ORIGINS: Type.String({
    default: '',
    description:
      'Comma-separated origins the account page is served from, e.g. https://accounts.example.com (https, except on localhost); empty: http://localhost:PORT',
  }),
});

export interface WebAuthnConfig {
  webauthn: { rpId: string; origins: string[] };
}

export const WEBAUTHN_VARIABLES = WebAuthnEnv.properties;

export function readWebAuthnConfig(
  environment: Environment,
  port: number,
  problems: string[],
): WebAuthnConfig {
  const env = readEnv(WebAuthnEnv, environment, problems);
  const rpId = env.WEBAUTHN_RP_ID.toLowerCase();
  if (!isDomain(rpId))
    problems.push(
      `WEBAUTHN_RP_ID=${JSON.stringify(env.WEBAUTHN_RP_ID)}: must be a domain name, e.g. example.com`,
    );
  const given = env.WEBAUTHN_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  const origins = given.length > 0 ? given : [`http://localhost:${port}`];
  for (const origin of origins) {
    const problem = originProblem(origin, rpId);
    if (problem) problems.push(`WEBAUTHN_ORIGINS: ${JSON.stringify(origin)} ${problem}`);
  }
  return { webauthn: { rpId, origins } };
}

/** A host name as browsers accept for an RP ID: letters, digits, hyphens and dots; no address, no port. */
function isDomain(value: string): boolean {
  const ascii = domainToASCII(value);
  return (
    ascii === value &&
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(
      value,
    ) &&
    !/^[0-9.]+$/.test(value)
  );
}

/** Why a browser would refuse this origin for the RP ID, or undefined when it would not. */
function originProblem(origin: string, rpId: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'is not a URL (scheme://host[:port])';
  }
  if (url.origin === 'null') return 'is not a URL (scheme://host[:port])';
  if (url.origin !== origin.replace(/\/$/, '')) return `must be an origin only, like ${url.origin}`;
  const local = url.hostname === 'localhost' || url.hostname.endsWith('.localhost');
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:'))
    return 'must be https (http only on localhost)';
  if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`))
    return `is not on WEBAUTHN_RP_ID (${rpId}) or a subdomain of it`;
  return undefined;
}
