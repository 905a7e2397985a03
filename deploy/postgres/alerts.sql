-- The alerts database (FLAGSTREAM_ALERTS_DATABASE_URL): the notifier's sent ledger, inbox
-- and position, the users' email preferences and list visits (flagstream/alerts.py).
-- Run as <prefix>_owner after database.sql; `flagstream db roles` does (SET ROLE), and
-- `flagstream migrate --admin-url` runs it again after migrating.
--
-- <prefix>_notifier   alert_ledger: SELECT, INSERT, UPDATE (a new email row, then sent or
--                     failed); alert_inbox: SELECT, INSERT (a new message); alert_offsets:
--                     SELECT, INSERT, UPDATE (its position, an upsert); alert_preferences:
--                     SELECT (who opted in). It deletes nothing and never reads alert_visits.
-- <prefix>_dashboard  SELECT on every table; UPDATE of alert_inbox.read_at only (marking a
--                     message read); INSERT and UPDATE on alert_preferences and alert_visits
--                     (upserts). It cannot write the ledger or the notifier's position.
-- Neither writes alembic_version_alerts. Every grant is made again from nothing each run, so
-- a grant added by hand is taken away. A table a later migration adds is readable by both
-- (default privileges); one either of them writes needs its line below.

DO $grants$
DECLARE
  prefix text := coalesce(nullif(current_setting('flagstream.role_prefix', true), ''), 'flagstream');
  owner_role text := prefix || '_owner';
  notifier text := prefix || '_notifier';
  dashboard text := prefix || '_dashboard';
  r record;
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), notifier, dashboard);
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I, %I', notifier, dashboard);
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I, %I', notifier, dashboard);
  EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I, %I', notifier, dashboard);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT SELECT ON TABLES TO %I, %I', owner_role, notifier, dashboard);
  IF to_regclass('public.alert_visits') IS NOT NULL THEN
    EXECUTE format('REVOKE SELECT ON alert_visits FROM %I', notifier);
  END IF;
  FOR r IN SELECT * FROM (VALUES
      ('alert_ledger', notifier, 'INSERT, UPDATE'),
      ('alert_inbox', notifier, 'INSERT'),
      ('alert_offsets', notifier, 'INSERT, UPDATE'),
      ('alert_inbox', dashboard, 'UPDATE (read_at)'),
      ('alert_preferences', dashboard, 'INSERT, UPDATE'),
      ('alert_visits', dashboard, 'INSERT, UPDATE')) AS v(name, grantee, privileges)
  LOOP
    IF to_regclass('public.' || quote_ident(r.name)) IS NULL THEN
      RAISE NOTICE '% does not exist yet (run flagstream migrate): skipped', r.name;
      CONTINUE;
    END IF;
    EXECUTE format('GRANT %s ON %I TO %I', r.privileges, r.name, r.grantee);
  END LOOP;
END
$grants$;
