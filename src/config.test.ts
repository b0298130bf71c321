import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, VARIABLES } from './config.js';

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8000,
      database: { dialect: 'sqlite', filename: './data/ras.db' },
      sessionTtlMs: 30 * 24 * 3600 * 1000,
      bodyLimit: 64 * 1024,
      corsOrigins: [],
      trustProxy: false,
    });
  });

  it('reads and converts values', () => {
    const config = loadConfig({
      PORT: '9000',
      DATABASE_URL: 'postgres://u:p@db:5432/ras',
      TOKEN_TTL: '3600',
      CORS_ORIGINS: 'https://a.example, https://b.example:8443',
      TRUST_PROXY: '10.0.0.5, 10.1.0.0/16',
    });
    expect(config.port).toBe(9000);
    expect(config.sessionTtlMs).toBe(3_600_000);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(config.trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16']);
  });

  it('lists every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        TOKEN_TTL: '-5',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        CORS_ORIGINS: '*',
        TRUST_PROXY: '1',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of ['PORT', 'TOKEN_TTL', 'DATABASE_URL', 'LOG_LEVEL', 'CORS_ORIGINS', 'TRUST_PROXY'])
      expect(problems).toContain(key);
  });
});

describe('loadConfig refuses what it would otherwise misread', () => {
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return '';
    } catch (error) {
      return (error as ConfigError).problems.join('\n');
    }
  };

  it.each([
    ['RATE_LIMIT_LOGIN_PER_MINUTE', '1e2'],
    ['TOKEN_TTL', '3600.5'],
    ['PORT', '0x50'],
    ['SESSIONS_MAX', ' 5 0'],
  ])('%s=%s: numbers are digits only', (key, value) => {
    expect(problemsOf({ [key]: value })).toContain(
      `${key}=${JSON.stringify(value.trim())}: must be a whole number`,
    );
  });

  it('lists the allowed values of a choice, and checks addresses, ports and URLs', () => {
    expect(problemsOf({ LOG_LEVEL: 'loud' })).toContain(
      'allowed values are fatal, error, warn, info, debug, trace, silent',
    );
    expect(problemsOf({ TRUST_PROXY: 'yes' })).toMatch(/TRUST_PROXY: "yes" is not an address or CIDR/);
    expect(problemsOf({ TRUST_PROXY: '10.0.0.0/33' })).toMatch(/TRUST_PROXY/);
    expect(problemsOf({ METRICS_PORT: '8000' })).toMatch(
      /METRICS_PORT=8000: the metrics listener needs a port of its own/,
    );
    expect(problemsOf({ DATABASE_URL: 'postgres://' })).toMatch(/not a valid postgres:/);
    expect(problemsOf({ SMTP_URL: 'smtp://relay:587' })).toMatch(/RESET_URL is required with SMTP_URL/);
    expect(problemsOf({ SMTP_URL: 'log:', RESET_URL: 'https://x.example/reset' })).toMatch(
      /containing \{token\}/,
    );
  });
});

describe('the variables', () => {
  it('are each in the README table of variables', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const missing = Object.keys(VARIABLES).filter((name) => !readme.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
  });
});
