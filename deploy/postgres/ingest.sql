-- Ingest's database (FLAGSTREAM_INGEST_DATABASE_URL): the durable record, keys, ledger.
-- Only <prefix>_ingest connects: it reads and writes every table (ingest, the validator,
-- `flagstream keys` and `flagstream tick` run as it). Run as <prefix>_owner after
-- database.sql; `flagstream db roles` does (SET ROLE).

DO $grants$
DECLARE
  prefix text := coalesce(nullif(current_setting('flagstream.role_prefix', true), ''), 'flagstream');
  owner_role text := prefix || '_owner';
  ingest text := prefix || '_ingest';
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), ingest);
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', ingest);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', ingest);
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', ingest);
  -- Tables later migrations create (as the owner) get the same grants.
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', owner_role, ingest);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT USAGE, SELECT ON SEQUENCES TO %I', owner_role, ingest);
  -- Which revision the schema is at is the migrations' business.
  IF to_regclass('public.alembic_version_ingest') IS NOT NULL THEN
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON alembic_version_ingest FROM %I', ingest);
  END IF;
END
$grants$;
