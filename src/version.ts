import { readFileSync } from 'node:fs';

/** The package's version (from package.json beside src/ and dist/), for the start line, `--version` and OpenAPI. */
export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
