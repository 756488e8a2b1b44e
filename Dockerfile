# syntax=docker/dockerfile:1
#
# channel-ledger: the HTTP service, with the `ledger` CLI beside it (`docker exec <container> ledger verify`).
#   docker build -t channel-ledger .
#   docker run -p 3000:3000 -v ledger-data:/data -e LEDGER_API_KEYS_FILE=/run/secrets/api-keys ... channel-ledger
# docs/operations.md lists every variable; with NODE_ENV=production (the default here) the service refuses to
# start without configured API keys.
#
# Node 22: package.json "engines" is what the locked dependencies declare (nestjs-pino 5 and the file-type that
# @nestjs/common 12 pins need Node >= 22.12, @nestjs/cli 12 ^22.22.3; test/engines.spec.ts keeps it true).
# Pin the base images by digest in a release pipeline.
ARG NODE_VERSION=22

# ---- build tools: better-sqlite3 compiles from source when no prebuilt binary matches (new Node, new arch) ----
FROM node:${NODE_VERSION}-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# ---- production dependencies only, native modules built here and checked to load ----
FROM toolchain AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund \
 && node -e "new (require('better-sqlite3'))(':memory:').close()"

# ---- compile with the dev dependencies (TypeScript, the Nest CLI) ----
FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: no compiler, no dev dependencies, no source, not root ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    LEDGER_DATA_DIR=/data
WORKDIR /app
# Root owns the application files: the service user can read them, not change them.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time from the repository layout, not compiled into dist: the AsyncAPI document served at
# /docs/events (apps/api/src/subscriptions/asyncapi.controller.ts looks for /app/events/asyncapi.json).
COPY --from=build /app/events ./events
RUN chmod 0755 dist/apps/cli/src/main.js \
 && ln -s /app/dist/apps/cli/src/main.js /usr/local/bin/ledger \
 && mkdir -p /data \
 && chown node:node /data \
 && chmod 0700 /data
# The event log, the read models and (without configured keys, outside production) admin.key. A named volume
# takes this directory's owner on first use; a bind mount must be writable by uid 1000 (`node`).
VOLUME ["/data"]
USER node
EXPOSE 3000
# Liveness only (/health). Readiness (/health/ready) belongs to the orchestrator's readiness probe: a lagging
# instance should leave the load balancer, not be restarted. The slim image has no curl: Node's fetch it is.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) drains requests in flight, stops the projection runner and closes the store; allow it
# time (`docker stop -t 40`, compose `stop_grace_period`): the service gives up by itself after 30 s.
STOPSIGNAL SIGTERM
# A young generation of 32 MiB semi-spaces instead of 16: under load the service scavenges half as often, and
# each scavenge copies about the same live set (the requests in flight, the folded states cached), so GC time per
# deal registration fell from ~0.15 to ~0.10 ms and the service used ~10 MB more (docs/operations.md).
CMD ["node", "--max-semi-space-size=32", "dist/apps/api/src/main.js"]
