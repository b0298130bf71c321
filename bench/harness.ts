/** Process helpers shared by the benchmark (run.ts) and the soak (soak.ts). */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './load.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PASSWORD = 'bench password 1234';

export const pinning = hasTaskset() && cpus().length >= 2;

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The command, pinned to one core when possible. */
export function pinned(core: number, command: string, args: string[]): [string, string[]] {
  return pinning ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

export interface Server {
  url: string;
  child: ChildProcess;
  peakRssMb: () => number;
  resetPeak: () => void;
  stop: () => Promise<void>;
}

/** Starts a server process on core 0, waits until it says it listens, and samples its RSS every 100 ms. */
export async function startServer(
  args: string[],
  env: Record<string, string>,
  readyText: RegExp,
): Promise<Server> {
  const port = await freePort();
  const [command, argv] = pinned(0, process.execPath, args);
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) } });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      if (readyText.test(output)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  let peak = 0;
  const sample = () => (peak = Math.max(peak, rssMb(child.pid)));
  const sampler = setInterval(sample, 100);
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    peakRssMb: () => (sample(), peak),
    resetPeak: () => (peak = rssMb(child.pid)),
    async stop() {
      clearInterval(sampler);
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

export function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Runs bench/load.ts on core 1 and returns its result. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const [command, argv] = pinned(1, process.execPath, [
    '--import',
    'tsx',
    'bench/load.ts',
    JSON.stringify(spec),
  ]);
  const child = spawn(command, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as LoadResult;
}

/** A run interleaved with a baseline (the raw server), in one load process: see `LoadSpec.baseline`. */
export function loadInterleaved(spec: LoadSpec, baseline: LoadSpec): Promise<LoadResult> {
  return load({ ...spec, baseline });
}

export const RAS_ENV = { LOG_LEVEL: 'info', TRUST_PROXY: '127.0.0.1' };
export const RAS_READY = /Server listening/;

/** Node flags for every Ras server this process starts (`--cpu-prof …` under `bench --profile`). */
const rasNodeArgs: string[] = [];

export function profileRasInto(dir: string): void {
  rasNodeArgs.push('--cpu-prof', '--cpu-prof-dir', dir);
}

/** `node <flags> dist/server.js` exactly as `npm start` runs it: the benchmark measures the production launch. */
function npmStartArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = pkg.scripts.start.split(/\s+/);
  if (node !== 'node') throw new Error(`npm start does not run node: ${pkg.scripts.start}`);
  return args;
}

export async function startRas(databaseUrl: string, extra: Record<string, string> = {}): Promise<Server> {
  return startServer(
    [...rasNodeArgs, ...npmStartArgs()],
    { ...RAS_ENV, DATABASE_URL: databaseUrl, ...extra },
    RAS_READY,
  );
}

export async function createAccount(ras: Server): Promise<{ id: number; email: string; token: string }> {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const res = await fetch(`${ras.url}/api/v1/users/signup/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.255.255.1' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`bench signup failed: ${res.status} ${await res.text()}`);
  const { result } = (await res.json()) as { result: { id: number; auth_token: string } };
  return { id: result.id, email, token: result.auth_token };
}

export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}
