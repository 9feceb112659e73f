#!/usr/bin/env bash
# Starts a VictoriaMetrics single node on 127.0.0.1:8428 for the InfluxDB mirror tests: it
# accepts the InfluxDB v2 line-protocol write API (/api/v2/write) and reads back through
# /api/v1/export. Idempotent: installs Debian's package if missing, starts it only if nothing
# answers yet, and waits until /health says OK. Called by .ci/run.
set -euo pipefail

ADDR="${VICTORIA_METRICS_ADDR:-127.0.0.1:8428}"
DATA_DIR="${VICTORIA_METRICS_DATA:-/tmp/vigie-victoria-metrics}"
LOG="${DATA_DIR}.log"

# Node is there in CI (curl may not be).
healthy() { node -e "fetch('http://${ADDR}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" >/dev/null 2>&1; }

if healthy; then
  echo "victoria-metrics already answering on ${ADDR}"
  exit 0
fi

if ! command -v victoria-metrics >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq victoria-metrics >/dev/null
fi

mkdir -p "${DATA_DIR}"
# -search.latencyOffset=0: freshly written samples are readable at once (tests read back
# what they just mirrored); the default 30 s hides the newest points from queries.
nohup victoria-metrics \
  -httpListenAddr="${ADDR}" \
  -storageDataPath="${DATA_DIR}" \
  -retentionPeriod=1 \
  -search.latencyOffset=0s \
  >"${LOG}" 2>&1 &

for _ in $(seq 1 100); do
  if healthy; then
    echo "victoria-metrics healthy on ${ADDR} (data ${DATA_DIR}, log ${LOG})"
    exit 0
  fi
  sleep 0.2
done
echo "victoria-metrics did not become healthy on ${ADDR}; see ${LOG}" >&2
tail -20 "${LOG}" >&2 || true
exit 1
