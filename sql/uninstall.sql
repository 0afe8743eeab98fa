-- Removes pgcache and every cached entry:  psql -v schema=pgcache -f sql/uninstall.sql
\set ON_ERROR_STOP on
\if :{?schema}
\else
  \set schema pgcache
\endif
DROP SCHEMA IF EXISTS :"schema" CASCADE;
