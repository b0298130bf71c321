import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';

/** The problems loadConfig reports for these variables (none: the config). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS', () => {
  it('default to localhost and the page on PORT', () => {
    expect(loadConfig({ PORT: '9100' }).webauthn).toEqual({
      rpId: 'localhost',
      origins: ['http://localhost:9100'],
    });
  });

  it('accept a domain and https origins on it or its subdomains', () => {
    const config = loadConfig({
      WEBAUTHN_RP_ID: 'Example.com',
      WEBAUTHN_ORIGINS: 'https://accounts.example.com, https://example.com:8443',
    });
    expect(config.webauthn).toEqual({
      rpId: 'example.com',
      origins: ['https://accounts.example.com', 'https://example.com:8443'],
    });
  });

  it.each([
    [
      { WEBAUTHN_RP_ID: 'https://example.com' },
      'WEBAUTHN_RP_ID="https://example.com": must be a domain name',
    ],
    [{ WEBAUTHN_RP_ID: 'example.com:443' }, 'must be a domain name'],
    [{ WEBAUTHN_RP_ID: '192.168.1.4' }, 'must be a domain name'],
    [
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'http://example.com' },
      'must be https (http only on localhost)',
    ],
    [
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://example.org' },
      'is not on WEBAUTHN_RP_ID (example.com)',
    ],
    [
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://badexample.com' },
      'is not on WEBAUTHN_RP_ID',
    ],
    [
      { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://example.com/account/' },
      'must be an origin only',
    ],
    [{ WEBAUTHN_ORIGINS: 'localhost:8000' }, 'WEBAUTHN_ORIGINS: "localhost:8000" is not a URL'],
  ])('refuses %j at start', (env, problem) => {
    expect(problemsOf(env).join('\n')).toContain(problem);
  });
});
