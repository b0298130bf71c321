import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

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
