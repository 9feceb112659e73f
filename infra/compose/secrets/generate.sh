#!/bin/sh
# Creates the Compose secrets (random, once) next to this script and ../.env; never overwrites.
# One settings file per Vigie process (VIGIE_CONFIG), each with its own broker account: the
# shipped Mosquitto configuration names sessions after accounts (use_username_as_clientid).
set -eu
cd "$(dirname "$0")"
umask 077
rand() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
make() { [ -s "$1" ] || rand > "$1"; }
for f in pg_password grafana_admin_password influx_password influx_token admin_token mqtt_vigie_main mqtt_vigie_ingest_1 mqtt_vigie_ingest_2; do make "$f"; done
settings() { # file account password-file
  [ -s "$1" ] || cat > "$1" <<YAML
DATABASE_URL: postgres://vigie:$(cat pg_password)@timescaledb:5432/vigie
MQTT_USERNAME: $2
MQTT_PASSWORD: $(cat "$3")
VIGIE_ADMIN_TOKEN: $(cat admin_token)
VIGIE_INFLUX_TOKEN: $(cat influx_token)
YAML
}
settings vigie-main.yaml vigie-main mqtt_vigie_main
settings vigie-ingest-1.yaml vigie-ingest-1 mqtt_vigie_ingest_1
settings vigie-ingest-2.yaml vigie-ingest-2 mqtt_vigie_ingest_2
[ -s ../.env ] || printf 'GRAFANA_DB_PASSWORD=%s\nINFLUX_TOKEN=%s\nDEMO_FLEET=0\n' "$(rand)" "$(cat influx_token)" > ../.env
echo "secrets ready in $(pwd) and $(dirname "$(pwd)")/.env"
