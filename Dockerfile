# syntax=docker/dockerfile:1
# The in-cluster runner image: the same esbuild bundle as `npm run build`, on a distroless Node 24
# base, non-root, no shell, no package manager, no node_modules (dist/lib/runner.mjs is self-contained).
#   docker build -t ghcr.io/crate/crate-decommission:$(node -p "require('./package.json').version") .

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the build needs no install script (esbuild's platform binary comes as an
# optional dependency; the `node` devDependency's download is for single executables, not here).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/build-options.mjs scripts/
COPY shared/ shared/
COPY runner/ runner/
# compile-cache/: an empty folder for the final stage's V8 code cache (below), owned by the runner's user there.
RUN node scripts/build.mjs && test -s dist/lib/runner.mjs && mkdir compile-cache

FROM gcr.io/distroless/nodejs24-debian12:nonroot
LABEL org.opencontainers.image.title="crate-decommission runner" \
      org.opencontainers.image.description="In-cluster runner of kubectl crate-decommission: decommissions and rolls CrateDB pods without making data unavailable" \
      org.opencontainers.image.source="https://github.com/crate/crate-decommission" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
COPY --from=build /src/dist/lib/runner.mjs /src/dist/lib/runner.mjs.map /app/
COPY --from=build --chown=65532:65532 /src/compile-cache/ /app/compile-cache/
COPY LICENSE /app/LICENSE
ENV NODE_ENV=production
# Node's compile cache (V8 code cache) of runner.mjs, written once here: a runner that finds it does not parse and
# compile the bundle's top level again, about 3 MiB off the load floor and 6 MiB off a
# rollout's peak RSS (docs/distribution.md, "Runner image"). The cache is
# keyed by the file's path and content, the Node version, the V8 flags and the uid, so it is written by the image's
# own node, with the ENTRYPOINT's flags, as the runner's user; a run that finds no matching entry compiles as before
# (the root file system is read-only in the Job: nothing is written then).
ENV NODE_COMPILE_CACHE=/app/compile-cache
# distroless' nonroot user; the Job's securityContext asks for the same uid (runAsNonRoot).
USER 65532:65532
# exec form: distroless has no shell.
RUN ["/nodejs/bin/node", "--max-semi-space-size=2", "--optimize-for-size", "--v8-pool-size=1", "--no-maglev", "--no-turbofan", "--no-wasm-tier-up", "--no-wasm-dynamic-tiering", "/app/runner.mjs", "--version"]
# V8 flags for a small, I/O-bound process (docs/distribution.md, "Runner image"; issue 9 item 2, runner peak RSS):
# young generation at most 2 x 2 MiB (the runner's garbage is small and short-lived), V8's memory-saving mode and one
# V8 worker thread; no optimizing compilers (Maglev and TurboFan for JavaScript, TurboFan tier-up for undici's wasm
# HTTP parser: their compile jobs took 12-20 MiB on the V8 worker during a rollout, measured on the test cluster;
# Sparkplug and Liftoff, the baseline compilers, stay). No --enable-source-maps: parsing the map costs about 20 MiB at
# start; the map is in /app for
# `NODE_OPTIONS=--enable-source-maps` (set it in the Job to read a stack trace) or to map a trace offline.
# test/cluster/images.json runs the runner with the same flags (a unit test keeps them equal).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=2", "--optimize-for-size", "--v8-pool-size=1", "--no-maglev", "--no-turbofan", "--no-wasm-tier-up", "--no-wasm-dynamic-tiering", "/app/runner.mjs"]
