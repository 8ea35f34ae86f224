import { sql, type TestServer } from './servers.js';

/**
 * SQL, run by a superuser, that creates schema `plant`, lets `evil` create in it, becomes `evil`
 * (the rest of the script runs as it: RESET ROLE after) and plants `plant.grab()`: a
 * volatile function that tries to make `evil` a superuser and writes down who it ran as in
 * `plant.seen`, and `plant.key(int)`, an IMMUTABLE wrapper around it that indexes, checks and
 * defaults may call.
 */
export const plantFunctions = (evil: string) => `CREATE SCHEMA plant;
GRANT CREATE, USAGE ON SCHEMA plant TO ${evil};
SET ROLE ${evil};
CREATE TABLE plant.seen (who text);
CREATE FUNCTION plant.grab() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  BEGIN EXECUTE 'ALTER ROLE ${evil} SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
  INSERT INTO plant.seen VALUES (current_user);
  RETURN 1;
END $$;
CREATE FUNCTION plant.key(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM plant.grab(); RETURN i; END $$;
`;

/** Whether `role` is a superuser now (what the planted code tries to make it). */
export const isSuperuser = async (server: TestServer, role: string) =>
  (
    await sql<{ s: boolean }>(
      server,
      'postgres',
      `SELECT rolsuper AS s FROM pg_roles WHERE rolname = '${role}'`,
    )
  )[0]!.s;

/** The roles the planted code ran as in `database` (written down in `plant.seen`). */
export const seenIn = async (server: TestServer, database: string) =>
  (
    await sql<{ who: string }>(server, database, 'SELECT DISTINCT who FROM plant.seen ORDER BY 1')
  ).map((r) => r.who);
