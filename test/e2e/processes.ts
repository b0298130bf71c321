import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${ROOT}dist/cli.js`;
const SERVER = `${ROOT}dist/server.js`;
/** The package's bin, as `ras serve` runs it. */
export const SERVE = [CLI, 'serve'];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `ras` command, as an operator would, in its own process. */
export async function runCli(args: string[], env: Record<string, string>, stdin = ''): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
  });
  child.stdin.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface RunningServer {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the built server exactly as the README's production launch does (`node --max-semi-space-size=4
 * dist/server.js`: one process, which receives the signals itself) and waits until it listens.
 */
export async function startServer(
  env: Record<string, string>,
  cwd = ROOT,
  command: string[] = ['--max-semi-space-size=4', SERVER],
): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, command, {
    cwd,
    env: { ...process.env, PORT: String(port), ...env },
  });
  const output = await untilOutput(child, 'Server listening');
  const exited = once(child, 'exit') as Promise<[number | null]>;
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output.text,
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

/**
 * Resolves once the child has written `marker` (stdout or stderr), with what it wrote, which keeps growing;
 * rejects with that output if the child exits first.
 */
export function untilOutput(child: ChildProcess, marker: string): Promise<{ text: string }> {
  const output = { text: '' };
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer) => {
      output.text += data.toString();
      if (output.text.includes(marker)) resolve(output);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${marker}: the process exited with ${code} first:\n${output.text}`)),
    );
  });
}
