import type BetterSqlite3 from 'better-sqlite3';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * better-sqlite3, in the major that works on this Node.js. Version 12 (the last to support Node 20) aborts the
 * process on Node ≥ 24.19 when a garbage-collected Statement tears down outside a V8 context (a known
 * upstream issue, fixed in 13); version 13 ships Node-API binaries that crash on Node 20. Both are installed
 * (13 under the npm alias `better-sqlite3-napi`) and have the same API.
 */
export async function loadBetterSqlite3(): Promise<typeof BetterSqlite3> {
  const module = NODE_MAJOR >= 24 ? await import('better-sqlite3-napi') : await import('better-sqlite3');
  return module.default;
}
