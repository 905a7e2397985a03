-- Run in each of Flagstream's databases, as the admin, before that database's own file:
-- everything in it comes to belong to its owner role (flagstream.owner_role: <prefix>_owner,
-- or <prefix>_audit_owner for the audit database), and PUBLIC loses every default right
-- (CONNECT, TEMPORARY, USAGE on schema public), so only roles granted below get in.
-- By hand:  SET flagstream.role_prefix = 'flagstream';
--           SET flagstream.owner_role = 'flagstream_owner';  \i database.sql

DO $adopt$
DECLARE
  owner_role text := current_setting('flagstream.owner_role');
  o record;
BEGIN
  EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), owner_role);
  EXECUTE format('ALTER SCHEMA public OWNER TO %I', owner_role);
  -- Tables and views made before the roles (by a service, or a migration run as the admin).
  FOR o IN
    SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
      AND pg_get_userbyid(c.relowner) <> owner_role
  LOOP
    EXECUTE format('ALTER %s public.%I OWNER TO %I',
                   CASE o.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                  ELSE 'TABLE' END,
                   o.relname, owner_role);
    RAISE NOTICE '% now owned by %', o.relname, owner_role;
  END LOOP;
  FOR o IN
    SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> owner_role
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO %I', o.fn, owner_role);
  END LOOP;
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  REVOKE ALL ON SCHEMA public FROM PUBLIC;
END
$adopt$;
