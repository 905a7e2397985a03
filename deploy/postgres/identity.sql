-- The identity store (FLAGSTREAM_IDENTITY_DATABASE_URL): UPNs, names and the restricted
-- store. <prefix>_ingest adds rows (and upserts identities: PostgreSQL needs SELECT on the
-- columns INSERT ... ON CONFLICT DO UPDATE sets, so it may read that table too);
-- <prefix>_dashboard reads. Nobody else connects: not the projector, not BI.
-- Run as <prefix>_owner after database.sql; `flagstream db roles` does (SET ROLE).

DO $grants$
DECLARE
  prefix text := coalesce(nullif(current_setting('flagstream.role_prefix', true), ''), 'flagstream');
  owner_role text := prefix || '_owner';
  ingest text := prefix || '_ingest';
  dashboard text := prefix || '_dashboard';
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), ingest, dashboard);
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I, %I', ingest, dashboard);
  EXECUTE format('GRANT INSERT ON ALL TABLES IN SCHEMA public TO %I', ingest);
  EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', dashboard);
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', ingest);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT INSERT ON TABLES TO %I', owner_role, ingest);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT SELECT ON TABLES TO %I', owner_role, dashboard);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT USAGE, SELECT ON SEQUENCES TO %I', owner_role, ingest);
  IF to_regclass('public.identities') IS NOT NULL THEN
    EXECUTE format('GRANT SELECT, UPDATE ON identities TO %I', ingest);
  ELSE
    RAISE NOTICE 'identities does not exist yet (run flagstream migrate): skipped';
  END IF;
  IF to_regclass('public.alembic_version_identity') IS NOT NULL THEN
    EXECUTE format('REVOKE INSERT ON alembic_version_identity FROM %I', ingest);
  END IF;
END
$grants$;
