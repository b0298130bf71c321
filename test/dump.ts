import { execFileSync } from 'node:child_process';
import { loadBetterSqlite3 } from '../src/store/sqlite-module.js';

const Database = await loadBetterSqlite3();

/** Every row of every table, as text: SQLite read row by row, PostgreSQL through `pg_dump --data-only`. */
export function dump(url: string): string {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      const tables = db.prepare(`select name from sqlite_master where type = 'table'`).all() as {
        name: string;
      }[];
      return tables.map(({ name }) => JSON.stringify(db.prepare(`select * from "${name}"`).all())).join('\n');
    } finally {
      db.close();
    }
  }
  return execFileSync('pg_dump', ['--data-only', url], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}
