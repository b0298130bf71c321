import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { StoreUnavailableError } from '../accounts/storage.js';
import { isDatabaseUnavailable } from './database-errors.js';

/**
 * Wraps a Kysely dialect so that every driver failure meaning "the database cannot be reached or written now"
 * (database-errors.ts) surfaces as the domain's `StoreUnavailableError`, and only there: the HTTP layer answers
 * 503 for it without knowing any driver's error codes. Other errors pass through as they are.
 */
export function reportingOutages(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => new OutageReportingDriver(dialect.createDriver()),
  };
}

function rethrow(error: unknown): never {
  throw isDatabaseUnavailable(error) ? new StoreUnavailableError(error) : error;
}

class OutageReportingConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.inner.executeQuery<R>(query).catch(rethrow);
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize);
    } catch (error) {
      rethrow(error);
    }
  }
}

type Compile = QueryCompiler['compileQuery'];

class OutageReportingDriver implements Driver {
  // One wrapper per driver connection (SQLite has one, a pool a few): nothing is allocated per query.
  readonly #wrappers = new WeakMap<DatabaseConnection, OutageReportingConnection>();

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init().catch(rethrow);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection().catch(rethrow);
    let wrapper = this.#wrappers.get(connection);
    if (!wrapper) this.#wrappers.set(connection, (wrapper = new OutageReportingConnection(connection)));
    return wrapper;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(innerOf(connection), settings).catch(rethrow);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(innerOf(connection)).catch(rethrow);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(innerOf(connection)).catch(rethrow);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.inner.savepoint?.(innerOf(connection), name, compile).catch(rethrow);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.inner.rollbackToSavepoint?.(innerOf(connection), name, compile).catch(rethrow);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.inner.releaseSavepoint?.(innerOf(connection), name, compile).catch(rethrow);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

function innerOf(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof OutageReportingConnection ? connection.inner : connection;
}
