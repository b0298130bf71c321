import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** The environment as given: variable name → value (unset or empty means "use the default"). */
export type Environment = Record<string, string | undefined>;

/**
 * Reads the variables of one concern's schema from the environment: defaults filled in, values converted, and
 * one line per bad variable added to `problems` (what was given and what is allowed). Every concern reads its
 * own variables through this; `loadConfig` (config.ts) collects the concerns and their problems.
 */
export function readEnv<S extends TObject>(
  schema: S,
  environment: Environment,
  problems: string[],
): Static<S> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = environment[key];
    if (value !== undefined && value !== '') raw[key] = value.trim();
  }
  const own = wholeNumberProblems(schema, raw);
  for (const key of Object.keys(raw)) if (own.some((p) => p.startsWith(`${key}=`))) delete raw[key];
  const env = Value.Convert(schema, Value.Default(schema, raw)) as Static<S>;
  own.push(...[...Value.Errors(schema, env)].map((e) => problemOf(schema, e.path.slice(1), raw)));
  problems.push(...own);
  return env;
}

/** The schema's integer variables: digits only (TypeBox would read 1e2 as 100 and 0x50 as 80). */
function wholeNumberProblems(schema: TObject, raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, property] of Object.entries(schema.properties)) {
    const value = raw[key];
    if (
      (property as { type?: string }).type === 'integer' &&
      typeof value === 'string' &&
      !/^\d+$/.test(value)
    )
      problems.push(`${key}=${JSON.stringify(value)}: must be a whole number, digits only`);
  }
  return problems;
}

/** One line per bad variable: what was given and what is allowed. */
function problemOf(schema: TObject, key: string, raw: Record<string, unknown>): string {
  const property = schema.properties[key] as {
    anyOf?: { const: string }[];
    minimum?: number;
    maximum?: number;
    pattern?: string;
  };
  const given = `${key}=${JSON.stringify(raw[key])}`;
  if (property.anyOf) return `${given}: allowed values are ${property.anyOf.map((s) => s.const).join(', ')}`;
  if (property.minimum !== undefined || property.maximum !== undefined)
    return `${given}: must be from ${property.minimum ?? 0} to ${property.maximum ?? 'any size'}`;
  if (property.pattern) return `${given}: must match ${property.pattern}`;
  return `${given}: invalid`;
}

/** True for an absolute http: or https: URL. */
export function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
