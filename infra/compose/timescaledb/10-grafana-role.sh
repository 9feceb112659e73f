#!/bin/sh
# First start of the database only (docker-entrypoint-initdb.d): a read-only role for Grafana.
# Tables created later by Vigie's migrations are covered by the default privileges.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$GRAFANA_DB_PASSWORD" <<'SQL'
create role grafana login password :'pw';
grant connect on database vigie to grafana;
grant usage on schema public to grafana;
alter default privileges for role vigie in schema public grant select on tables to grafana;
SQL
