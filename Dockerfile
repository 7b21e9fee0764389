# One image recipe for every deployable:
#   docker build --build-arg SERVICE=auth .     (auth | social | media | search | chat | gateway)
# Node 24 runs the TypeScript sources directly (type stripping), so there is no compile stage.

FROM node:24-bookworm-slim AS base
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0
RUN corepack enable && corepack prepare pnpm@10.34.9 --activate
WORKDIR /app

# Only the files that decide the dependency tree, paths kept (COPY globs would flatten
# packages/*/package.json). The output is byte-identical until a manifest or the lockfile
# changes, so the install layer below stays cached across source edits.
FROM base AS manifests
COPY . /src
RUN cd /src && mkdir /out \
 && cp package.json pnpm-lock.yaml pnpm-workspace.yaml /out/ \
 && find packages services gateway -maxdepth 2 -name package.json -exec cp --parents {} /out/ \;

FROM base AS deps
COPY --from=manifests /out/ ./
# --prod: nothing is compiled, so dev tools (tsc, tap, biome) never reach the image.
RUN pnpm install --frozen-lockfile --prod

FROM node:24-bookworm-slim AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    HOST=0.0.0.0 \
    MEDIA_ROOT=/data/media
WORKDIR /app
COPY --from=deps /app ./
COPY package.json pnpm-workspace.yaml ./
COPY packages ./packages
COPY services ./services
COPY gateway ./gateway
# Fail the build, not the container, on a wrong SERVICE. /data belongs to the runtime user so a
# named volume mounted at /data/media starts out writable (Docker copies the dir's ownership).
RUN dir="services/$SERVICE"; [ "$SERVICE" != gateway ] || dir=gateway; \
    [ -n "$SERVICE" ] && [ -f "$dir/src/server.ts" ] \
      || { echo "build with --build-arg SERVICE=<a services/ dir or gateway>; got '$SERVICE'" >&2; exit 1; }; \
    mkdir -p /data/media && chown -R node:node /data
# Sources stay root-owned (read-only for the app); only /data is writable.
USER node
# PORT is set per service by compose; the fallback mirrors the local defaults (API.md).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "const p=process.env.PORT||{auth:3001,social:3002,media:3003,search:3004,chat:3005,gateway:8080}[process.env.SERVICE];fetch('http://127.0.0.1:'+p+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Shell form only to pick the path; `exec` makes node PID 1 so it receives SIGTERM directly.
# The package's `nodeFlags` (heap sizes V8 fixes at start-up), as scripts/start.ts passes them.
CMD dir="services/$SERVICE"; [ "$SERVICE" != gateway ] || dir=gateway; \
  exec node $(node -p "(require('./$dir/package.json').nodeFlags || []).join(' ')") "$dir/src/server.ts"
