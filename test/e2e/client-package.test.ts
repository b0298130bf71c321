/**
 * `@ras/client` as a client developer gets it (issue 23): `npm pack` of packages/client is a small tarball
 * that installs into an empty project with nothing else, holds no native code, and works there.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('../../packages/client/', import.meta.url));

/** Every file under `folder`, as paths relative to it. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

it('packs under 50 KB and installs into an empty project with nothing else, no native code, and works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ras-client-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: CLIENT });
  const [packed] = JSON.parse(stdout) as { filename: string; size: number; files: { path: string }[] }[];
  console.log(`@ras/client tarball: ${packed!.size} bytes, ${packed!.files.length} files`);
  expect(packed!.size).toBeLessThan(50 * 1024);
  expect(packed!.files.map((f) => f.path)).toEqual(
    expect.arrayContaining([
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/api.d.ts',
    ]),
  );

  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'empty', version: '1.0.0', type: 'module' }),
  );
  await run('npm', ['install', join(dir, packed!.filename), '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: project,
  });
  const modules = join(project, 'node_modules');
  const installed = readdirSync(modules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) =>
      name.startsWith('@') ? readdirSync(join(modules, name)).map((n) => `${name}/${n}`) : [name],
    );
  expect(installed.sort()).toEqual(['@ras/client', 'openapi-fetch', 'openapi-typescript-helpers']);
  expect(filesUnder(modules).filter((file) => file.endsWith('.node'))).toEqual([]);

  const { stdout: used } = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const { createRasClient } = await import('@ras/client'); const ras = createRasClient('http://127.0.0.1:1'); console.log(typeof ras.api.POST, ras.token);",
    ],
    { cwd: project },
  );
  expect(used.trim()).toBe('function undefined');
}, 120_000);
