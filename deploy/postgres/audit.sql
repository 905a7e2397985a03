-- The audit database (FLAGSTREAM_DASHBOARD_AUDIT_DATABASE_URL), owned by <prefix>_audit_owner,
-- which nobody logs in as. <prefix>_dashboard may INSERT and SELECT audit_log - never UPDATE,
-- DELETE or TRUNCATE, and as it owns nothing it cannot drop or disable the append-only
-- trigger either. Other tables here (the dashboard's session store) it reads and writes.
-- Run as <prefix>_audit_owner after database.sql; `flagstream db roles` does (SET ROLE).

DO $grants$
DECLARE
  prefix text := coalesce(nullif(current_setting('flagstream.role_prefix', true), ''), 'flagstream');
  owner_role text := prefix || '_audit_owner';
  dashboard text := prefix || '_dashboard';
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), dashboard);
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', dashboard);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I',
                 dashboard);
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', dashboard);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', owner_role, dashboard);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT USAGE, SELECT ON SEQUENCES TO %I', owner_role, dashboard);
  IF to_regclass('public.alembic_version_audit') IS NOT NULL THEN
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON alembic_version_audit FROM %I', dashboard);
  END IF;
  IF to_regclass('public.audit_log') IS NULL THEN
    RAISE NOTICE 'audit_log does not exist yet (run flagstream migrate): skipped';
    RETURN;
  END IF;
  EXECUTE format('REVOKE ALL ON audit_log FROM %I', dashboard);
  EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', dashboard);
  -- The append-only trigger, as the audit migration makes it, put back if it is missing.
  CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $fn$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $fn$;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'public.audit_log'::regclass
                 AND tgname = 'audit_log_append_only' AND tgenabled IN ('O', 'A')) THEN
    DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    RAISE NOTICE 'audit_log had no append-only trigger: created';
  END IF;
END
$grants$;
