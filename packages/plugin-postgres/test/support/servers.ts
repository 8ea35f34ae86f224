import type { TestServer } from '@lifeboat/test-support/postgres';
import { type PostgresSourceOptions, postgresSource } from '../../src/index.js';

export * from '@lifeboat/test-support/postgres';

export function sourceFor(
  server: TestServer,
  database: string,
  extra: Partial<PostgresSourceOptions> = {},
) {
  return postgresSource({
    host: server.host,
    port: server.port,
    user: server.user,
    database,
    ...(server.password ? { password: server.password } : {}),
    ...extra,
  });
}
