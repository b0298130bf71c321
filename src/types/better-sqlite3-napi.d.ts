/** better-sqlite3 13 under its npm alias (see store/sqlite-module.ts): the same API as version 12. */
declare module 'better-sqlite3-napi' {
  import BetterSqlite3 from 'better-sqlite3';
  export default BetterSqlite3;
}
