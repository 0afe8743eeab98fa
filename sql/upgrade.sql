-- Upgrades an install of an earlier release with psql alone:  psql -v schema=pgcache -f sql/upgrade.sql
-- Runs every upgrade step's DDL (sql/upgrades/, oldest first; each is re-runnable), then sql/install.sql,
-- which re-applies every function, view and grant. The two run as two transactions: if the second fails, fix
-- the cause and run this file again. A fresh install needs only sql/install.sql.
\set ON_ERROR_STOP on
\if :{?schema}
\else
  \set schema pgcache
\endif
SET client_min_messages = warning;
BEGIN;
SELECT set_config('pgcache.schema', :'schema', true) \g /dev/null
\ir prelude.sql
\ir upgrades/pgcache--0.1.0--0.2.0.sql
COMMIT;
\ir install.sql
