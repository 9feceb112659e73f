# Vigie container image: one image for every role (`vigie start`; the roles ingest, api and
# worker are chosen at run time). Node 24 LTS; runs as the unprivileged `node` user.
#
#   docker build -t vigie .
#   docker run -e DATABASE_URL=... -e MQTT_URL=... -p 3000:3000 vigie

# --- Stage 1: production dependencies from the lockfile -------------------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No dev dependencies (test runner, type checker, dashboard builder). The embedded PostgreSQL
# binaries come with the runtime dependencies; a deployment points DATABASE_URL elsewhere.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- Stage 2: runtime ------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    VIGIE_HTTP_HOST=0.0.0.0 \
    VIGIE_HTTP_PORT=3000 \
    VIGIE_DATA_DIR=/var/lib/vigie
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node ingest ./ingest
COPY --chown=node:node schemas ./schemas
COPY --chown=node:node services ./services
COPY --chown=node:node simulators ./simulators
COPY --chown=node:node rules ./rules
COPY --chown=node:node infra/demo ./infra/demo
# vigie mosquitto-config starts from the shipped broker configuration.
COPY --chown=node:node infra/mosquitto ./infra/mosquitto
COPY --chown=node:node types ./types
COPY --chown=node:node tsconfig.json ./
RUN mkdir -p /var/lib/vigie/broker && chown -R node:node /var/lib/vigie
USER node
EXPOSE 3000
# Liveness of the process (GET /health); orchestrators also probe GET /ready (database and broker).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.VIGIE_HTTP_PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/vigie.js"]
CMD ["start"]
