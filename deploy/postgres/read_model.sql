-- The read model (FLAGSTREAM_DATABASE_URL): grants, the BI views and row-level security.
-- Run as <prefix>_owner after database.sql; `flagstream db roles` does (SET ROLE), and
-- `flagstream migrate --admin-url` runs it again after migrating, so tables a migration adds
-- are covered. Tables that do not exist yet are skipped with a notice.
--
-- <prefix>_projector  reads and writes every table (its policies let it see every row).
-- <prefix>_dashboard  SELECT on every table; rows of per-child tables only in the viewer's
--                     scope, which the dashboard sets per transaction:
--                       set_config('flagstream.viewer_role', 'school'|'dsl'|'zone'|'manager'|'admin', true)
--                       set_config('flagstream.viewer_urn', <the school's URN>, true)   -- school, dsl
--                       set_config('flagstream.viewer_zone', <the zone>, true)          -- zone
--                     No scope set: no child rows at all.
-- <prefix>_bi         SELECT on the bi_* views only (docs/read-model.md#views-for-bi-tools).
-- <prefix>_notifier   SELECT on what it reads only (children, flag_changes, school_days,
--                     schools, freshness, and alembic_version to check the schema at start),
--                     every row of those (policy notifier_reads); nothing else: no restricted
--                     table, no outcomes, no huddles, and no table a later migration adds.

DO $grants$
DECLARE
  prefix text := coalesce(nullif(current_setting('flagstream.role_prefix', true), ''), 'flagstream');
  owner_role text := prefix || '_owner';
  projector text := prefix || '_projector';
  dashboard text := prefix || '_dashboard';
  bi text := prefix || '_bi';
  notifier text := prefix || '_notifier';
  t text;
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I, %I, %I',
                 current_database(), projector, dashboard, bi, notifier);
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I, %I, %I, %I',
                 projector, dashboard, bi, notifier);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I',
                 projector);
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', projector);
  EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', dashboard);
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', bi);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', owner_role, projector);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT USAGE, SELECT ON SEQUENCES TO %I', owner_role, projector);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                 'GRANT SELECT ON TABLES TO %I', owner_role, dashboard);
  IF to_regclass('public.alembic_version') IS NOT NULL THEN
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM %I', projector);
  END IF;
  -- The notifier: from nothing each run, so a grant added by hand is taken away.
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', notifier);
  FOREACH t IN ARRAY ARRAY['alembic_version', 'children', 'flag_changes', 'school_days',
                           'schools', 'freshness'] LOOP
    IF to_regclass('public.' || quote_ident(t)) IS NULL THEN
      RAISE NOTICE 'notifier: % does not exist yet, skipped', t;
      CONTINUE;
    END IF;
    EXECUTE format('GRANT SELECT ON %I TO %I', t, notifier);
  END LOOP;
END
$grants$;

-- Whether the viewer of this transaction may see a row of school `school`. Tables are
-- schema-qualified so a temporary table cannot stand in for public.schools (which need not
-- exist yet: the body is checked when first used).
SET check_function_bodies = false;
CREATE OR REPLACE FUNCTION flagstream_viewer_sees(school text) RETURNS boolean
LANGUAGE sql STABLE AS $fn$
  SELECT CASE current_setting('flagstream.viewer_role', true)
    WHEN 'manager' THEN true
    WHEN 'admin' THEN true
    WHEN 'school' THEN school = current_setting('flagstream.viewer_urn', true)
    WHEN 'dsl' THEN school = current_setting('flagstream.viewer_urn', true)
    WHEN 'zone' THEN EXISTS (
      SELECT 1 FROM public.schools s
      WHERE s.urn = school AND s.zone = current_setting('flagstream.viewer_zone', true))
    ELSE false
  END
$fn$;
-- Whether the viewer may see a row placed in zone `zone` (a child not yet in school, placed by
-- an early-years setting: docs/families.md): county roles, and that zone's users.
CREATE OR REPLACE FUNCTION flagstream_viewer_sees_zone(zone text) RETURNS boolean
LANGUAGE sql STABLE AS $fn$
  SELECT CASE current_setting('flagstream.viewer_role', true)
    WHEN 'manager' THEN true
    WHEN 'admin' THEN true
    WHEN 'zone' THEN zone = current_setting('flagstream.viewer_zone', true)
    ELSE false
  END
$fn$;
RESET check_function_bodies;

-- Row-level security on every table holding a child's rows: the second wall behind the
-- dashboard's own checks. A row is in scope when it was written for a school in scope, or its
-- child is now at a school in scope (children is itself filtered, so the child test inherits
-- the scope). Sensitive flags: the DSL of the child's school only. A table with a child_key
-- that is not listed gets the default (school or child in scope) and a notice.
DO $rls$
DECLARE
  prefix text := coalesce(nullif(current_setting('flagstream.role_prefix', true), ''), 'flagstream');
  projector text := prefix || '_projector';
  dashboard text := prefix || '_dashboard';
  notifier text := prefix || '_notifier';
  -- The per-child tables the notifier reads: every row (a DSL is told whichever school the
  -- child is at; digests count every school). Its grants above allow SELECT only.
  notifier_reads constant text[] := ARRAY['children', 'flag_changes'];
  child_in_scope constant text :=
    'EXISTS (SELECT 1 FROM public.children c WHERE c.child_key = %1$I.child_key)';
  dsl constant text :=
    'current_setting(''flagstream.viewer_role'', true) = ''dsl'' '
    'AND %2$s = current_setting(''flagstream.viewer_urn'', true)';
  listed constant text[] := ARRAY['children', 'child_flags', 'flag_changes', 'flag_history',
    'outcomes', 'rolls', 'child_sources', 'restricted_flags', 'restricted_flag_changes',
    'huddles', 'huddle_reviews', 'child_households', 'child_links',
    'child_places'];
  r record;
  rule text;
BEGIN
  FOR r IN
    SELECT t.name, t.rule FROM (VALUES
      -- A child not yet in school (no school) for county roles and the zone it is placed in.
      ('children', CASE WHEN to_regclass('public.child_places') IS NULL
                        THEN 'flagstream_viewer_sees(urn)'
                        ELSE 'flagstream_viewer_sees(urn) OR (urn = '''' AND EXISTS (SELECT 1 '
                             'FROM public.child_places p WHERE p.child_key = %1$I.child_key '
                             'AND flagstream_viewer_sees_zone(p.zone)))' END),
      -- A child's flags as strict as its children row: urn is the same current school.
      ('child_flags', 'flagstream_viewer_sees(urn)'),
      ('flag_changes', 'flagstream_viewer_sees(urn) OR ' || child_in_scope),
      ('flag_history', 'flagstream_viewer_sees(urn) OR ' || child_in_scope),
      ('outcomes', 'flagstream_viewer_sees(urn) OR ' || child_in_scope),
      -- A school's huddles (no child_key) for those who see the school; what a huddle agreed
      -- for a child like the child's outcomes.
      ('huddles', 'flagstream_viewer_sees(urn)'),
      ('huddle_reviews', 'flagstream_viewer_sees(urn) OR ' || child_in_scope),
      ('rolls', 'flagstream_viewer_sees(urn) OR ' || child_in_scope),
      ('child_sources', child_in_scope),
      -- A household row only for a child in scope: a sibling elsewhere is not even counted.
      ('child_households', child_in_scope),
      ('child_links', child_in_scope),
      -- Where a child not yet in school is seen: county roles and that zone's users.
      ('child_places', 'flagstream_viewer_sees_zone(zone)'),
      ('restricted_flags', dsl),
      ('restricted_flag_changes', 'current_setting(''flagstream.viewer_role'', true) = ''dsl'' '
        'AND (urn = current_setting(''flagstream.viewer_urn'', true) OR EXISTS (SELECT 1 FROM '
        'public.children c WHERE c.child_key = %1$I.child_key AND c.urn = '
        'current_setting(''flagstream.viewer_urn'', true)))')
    ) AS t(name, rule)
    UNION ALL
    SELECT c.relname,
           CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                             AND a.attname = 'urn' AND NOT a.attisdropped)
                THEN 'flagstream_viewer_sees(urn) OR ' || child_in_scope
                ELSE child_in_scope END
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> ALL (listed)
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                  AND a.attname = 'child_key' AND NOT a.attisdropped)
  LOOP
    IF to_regclass('public.' || quote_ident(r.name)) IS NULL THEN
      RAISE NOTICE 'row-level security: % does not exist yet, skipped', r.name;
      CONTINUE;
    END IF;
    IF r.name <> ALL (listed) THEN
      RAISE NOTICE 'row-level security: % holds child rows but is not listed in '
                   'read_model.sql: given the default policy (school or child in scope)', r.name;
    END IF;
    rule := format(r.rule, r.name, 'urn');
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', r.name);
    EXECUTE format('DROP POLICY IF EXISTS projector_writes ON %I', r.name);
    EXECUTE format('CREATE POLICY projector_writes ON %I FOR ALL TO %I USING (true) '
                   'WITH CHECK (true)', r.name, projector);
    EXECUTE format('DROP POLICY IF EXISTS viewer_scope ON %I', r.name);
    EXECUTE format('CREATE POLICY viewer_scope ON %I FOR SELECT TO %I USING (%s)',
                   r.name, dashboard, rule);
    EXECUTE format('DROP POLICY IF EXISTS notifier_reads ON %I', r.name);
    IF r.name = ANY (notifier_reads) THEN
      EXECUTE format('CREATE POLICY notifier_reads ON %I FOR SELECT TO %I USING (true)',
                     r.name, notifier);
    END IF;
  END LOOP;
END
$rls$;

-- Views for BI tools: counts, never a child_key or a child's row. They run as their owner, so
-- they count every child whatever the row-level security above lets a viewer see.
-- security_barrier: nothing in a BI query is evaluated before the view's own conditions.
-- bi_school_summary has a <flag>_flagged column per flag of the view school_flag_columns (made
-- from the flag catalogue, readmodel/flag_views.py) as it is when this runs; it reads the rows
-- of school_flag_counts, not that view, so the projector can make the view again.
DO $bi$
DECLARE
  prefix text := coalesce(nullif(current_setting('flagstream.role_prefix', true), ''), 'flagstream');
  dashboard text := prefix || '_dashboard';
  bi text := prefix || '_bi';
  v record;
  needs text;
  missing boolean;
  per_flag text;
BEGIN
  SELECT coalesce(string_agg(format(
           'CASE WHEN t.urn IS NOT NULL THEN coalesce((SELECT k.flagged FROM school_flag_counts k '
           'WHERE k.urn = s.urn AND k.flag = %L), 0) END AS %I',
           upper(left(column_name, -length('_flagged'))), column_name) || ', ',
           '' ORDER BY ordinal_position), '')
    INTO per_flag
    FROM information_schema.columns
   WHERE table_schema = 'public' AND table_name = 'school_flag_columns'
     AND column_name LIKE '%\_flagged' AND column_name <> 'any_flagged';
  FOR v IN SELECT * FROM (VALUES
    ('bi_schools', 'schools',
     'SELECT urn, name, phase, pyramid, zone FROM schools'),
    ('bi_school_summary', 'schools,school_summary,school_flag_counts',
     'SELECT s.urn, s.name, s.phase, s.pyramid, s.zone, t.children, ' || per_flag ||
     't.any_flagged, t.as_of FROM schools s LEFT JOIN school_summary t ON t.urn = s.urn'),
    ('bi_flag_counts', 'schools,child_flags',
     'SELECT f.urn, s.zone, f.flag, f.tier, count(*) AS children '
     'FROM child_flags f JOIN schools s ON s.urn = f.urn GROUP BY f.urn, s.zone, f.flag, f.tier'),
    ('bi_daily_counts', 'schools,daily_counts',
     'SELECT d.day, d.urn, s.zone, d.flag, d.on_roll, d.flagged '
     'FROM daily_counts d JOIN schools s ON s.urn = d.urn'),
    ('bi_reflagged', 'schools,flag_history',
     'SELECT s.zone, h.flag, date_trunc(''month'', h.raised_on)::date AS month, '
     'count(*) AS raised, '
     'sum(CASE WHEN h.reflagged_within_12m THEN 1 ELSE 0 END) AS reflagged_within_12m '
     'FROM flag_history h JOIN schools s ON s.urn = h.urn GROUP BY 1, 2, 3'),
    ('bi_read_model_status', 'read_model_status',
     'SELECT state, since, detail, checked_at FROM read_model_status')
  ) AS t(name, tables, body)
  LOOP
    missing := false;
    FOREACH needs IN ARRAY string_to_array(v.tables, ',') LOOP
      missing := missing OR to_regclass('public.' || needs) IS NULL;
    END LOOP;
    IF missing THEN
      RAISE NOTICE 'BI view %: % not all there yet, skipped', v.name, v.tables;
      CONTINUE;
    END IF;
    EXECUTE format('DROP VIEW IF EXISTS %I', v.name);
    EXECUTE format('CREATE VIEW %I WITH (security_barrier) AS %s', v.name, v.body);
    EXECUTE format('GRANT SELECT ON %I TO %I, %I', v.name, bi, dashboard);
  END LOOP;
END
$bi$;
