# sstpwatch in a container (README "Install as a service": Container).
#   docker build -t sstpwatch .
#   docker run -d --name sstpwatch -p 127.0.0.1:9470:9470 -v sstpwatch-data:/var/lib/sstpwatch \
#     -v "$PWD/sstpwatch.yml:/etc/sstpwatch/sstpwatch.yml:ro" -e SSTPWATCH_TOKEN sstpwatch
# Without a config of your own, the image runs the demo (simulated RRAS servers inside the container).
# test/system/deploy/container.test.ts runs these steps outside Docker and starts the result as CMD does.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Only the TypeScript compiler is needed here: no install scripts (no native module built for nothing).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/sstpwatch
COPY package.json package-lock.json ./
# Runtime dependencies only; better-sqlite3 is the one that needs its install script (its native module).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3 && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
COPY deploy/container/sstpwatch.yml /etc/sstpwatch/sstpwatch.yml
RUN mkdir -p /var/lib/sstpwatch && chown node:node /var/lib/sstpwatch
# The node image's unprivileged user (uid 1000).
USER node
VOLUME /var/lib/sstpwatch
EXPOSE 9470
# No curl in the image: Node asks /healthz itself (plain HTTP; with tls: in your config, use https and the cert).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:9470/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A young generation of 2 x 8 MiB (V8: 2 x 16): less peak memory on large fleets (docs/capacity.md, "What the heap holds").
ENV NODE_OPTIONS=--max-semi-space-size=8
CMD ["node", "/opt/sstpwatch/bin/sstpwatch.js", "serve", "--config", "/etc/sstpwatch/sstpwatch.yml"]
