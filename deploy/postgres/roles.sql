-- Flagstream's PostgreSQL roles (cluster-wide). `flagstream db roles` runs this file as the
-- admin it is given, then one file per database (read_model.sql, ingest.sql, identity.sql,
-- audit.sql, alerts.sql) connected to that database. By hand, as a superuser:
--
--   SET flagstream.role_prefix = 'flagstream';   -- names: <prefix>_owner, <prefix>_ingest, ...
--   \i roles.sql
--
-- <prefix>_owner        NOLOGIN: owns the read model, ingest's database, the identity store
--                       and the alerts database; migrations run as it (SET ROLE). Nobody
--                       logs in as it.
-- <prefix>_audit_owner  NOLOGIN: owns the audit database, its table and append-only triggers.
-- <prefix>_ingest       ingest and the validator: its own database; writes the identity store.
-- <prefix>_projector    the projector: writes the read model.
-- <prefix>_dashboard    reads the read model (row-level security by viewer), the identity
--                       store; appends to and reads the audit log; reads the alerts database,
--                       marks its inbox read, writes preferences and visits.
-- <prefix>_notifier     the notifier: writes its ledger, inbox rows and position in the alerts
--                       database; reads the few read-model tables it needs (children,
--                       flag_changes, school_days, schools, freshness), never the restricted
--                       ones.
-- <prefix>_bi           council BI tools: SELECT on the bi_* views of the read model only.
--
-- None is a superuser, none bypasses row-level security, none may create roles or databases,
-- and no login role is a member of an owner role. Passwords are set by the command
-- (--password-file / --passwords-from-env), never written here.

DO $roles$
DECLARE
  prefix text := coalesce(nullif(current_setting('flagstream.role_prefix', true), ''), 'flagstream');
  admin_is_super boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
  r record;
  role_name text;
  existing pg_roles%ROWTYPE;
  owner_role text;
BEGIN
  FOR r IN SELECT * FROM (VALUES
      ('owner', false), ('audit_owner', false),
      ('ingest', true), ('projector', true), ('dashboard', true), ('notifier', true),
      ('bi', true)) AS v(name, login)
  LOOP
    role_name := prefix || '_' || r.name;
    SELECT * INTO existing FROM pg_roles WHERE rolname = role_name;
    IF NOT FOUND THEN
      EXECUTE format('CREATE ROLE %I %s', role_name, CASE WHEN r.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
      RAISE NOTICE 'created role %', role_name;
      SELECT * INTO existing FROM pg_roles WHERE rolname = role_name;
    END IF;
    -- An existing role is brought back to these attributes (only what differs is altered,
    -- so an admin with CREATEROLE but not SUPERUSER can run this when nothing is wrong).
    IF existing.rolsuper OR existing.rolbypassrls OR existing.rolreplication OR existing.rolcreatedb
       OR existing.rolcreaterole THEN
      EXECUTE format('ALTER ROLE %I NOSUPERUSER NOBYPASSRLS NOREPLICATION NOCREATEDB NOCREATEROLE',
                     role_name);
      RAISE NOTICE 'role % had powers it must not have: removed', role_name;
    END IF;
    IF existing.rolcanlogin <> r.login THEN
      EXECUTE format('ALTER ROLE %I %s', role_name, CASE WHEN r.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
    END IF;
    IF r.login THEN
      -- Errors in the server log without DETAIL ("Failing row contains (...)": row values).
      IF admin_is_super THEN
        EXECUTE format('ALTER ROLE %I SET log_error_verbosity = terse', role_name);
      ELSE
        RAISE NOTICE 'not a superuser: set log_error_verbosity = terse for % yourself', role_name;
      END IF;
      -- No login role may act as an owner.
      FOREACH owner_role IN ARRAY ARRAY[prefix || '_owner', prefix || '_audit_owner'] LOOP
        IF pg_has_role(role_name, owner_role, 'MEMBER') THEN
          EXECUTE format('REVOKE %I FROM %I', owner_role, role_name);
          RAISE NOTICE 'role % was a member of %: revoked', role_name, owner_role;
        END IF;
      END LOOP;
    END IF;
  END LOOP;
  -- The admin running migrations must be able to SET ROLE to the owners.
  IF NOT admin_is_super THEN
    EXECUTE format('GRANT %I, %I TO %I', prefix || '_owner', prefix || '_audit_owner', current_user);
  END IF;
END
$roles$;
