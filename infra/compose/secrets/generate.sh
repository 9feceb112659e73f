#!/bin/sh
# Creates the Compose secrets (random, once) next to this script and ../.env; never overwrites.
set -eu
cd "$(dirname "$0")"
rand() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
make() { [ -s "$1" ] || { umask 077; rand > "$1"; }; }
for f in pg_password grafana_admin_password mqtt_vigie_password mqtt_devices_password influx_password influx_token admin_token; do make "$f"; done
if [ ! -s vigie.yaml ]; then
  umask 077
  cat > vigie.yaml <<YAML
DATABASE_URL: postgres://vigie:$(cat pg_password)@timescaledb:5432/vigie
MQTT_USERNAME: vigie
MQTT_PASSWORD: $(cat mqtt_vigie_password)
VIGIE_ADMIN_TOKEN: $(cat admin_token)
VIGIE_INFLUX_TOKEN: $(cat influx_token)
YAML
fi
if [ ! -s ../.env ]; then
  umask 077
  printf 'GRAFANA_DB_PASSWORD=%s\nINFLUX_TOKEN=%s\n' "$(rand)" "$(cat influx_token)" > ../.env
fi
echo "secrets ready in $(pwd) and $(dirname "$(pwd)")/.env"
