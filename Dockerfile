# syntax=docker/dockerfile:1
# One image for both functions and the CLI; FUNCTION=sync|query|cli picks the bundle.
#   docker build -t <registry>/knative-mcp-registry:<tag> .
#   docker run --rm -p 8080:8080 -e FUNCTION=query <registry>/knative-mcp-registry:<tag>

# --- build: install dependencies and bundle with esbuild ---------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: the `node` devDependency would download a second Node.js, and this
# image already has Node 24. esbuild's platform binary comes as an optional dependency.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY lib ./lib
COPY functions ./functions
# also writes dist/compile-cache (the query function's V8 code cache, scripts/compile-cache.ts):
# valid only for this exact Node.js build, which is why the runtime stage below is the same image
RUN node scripts/build.ts

# --- runtime: Node 24 and the bundles, nothing else --------------------------------------
FROM node:24-bookworm-slim
# glibc malloc: buffers of 32 KiB and more (response bodies, compressed variants, snapshot
# pieces) are mmapped and go back to the system when freed, instead of fragmenting the heap
# arenas (under random access the query function's RSS otherwise grows ~70 MB past what it
# holds: npm run bench -- query, random-access); two arenas, trimmed above 1 MiB
ENV NODE_ENV=production \
    FUNCTION=query \
    PORT=8080 \
    MALLOC_MMAP_THRESHOLD_=32768 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=1048576
WORKDIR /app
# the bundles are self-contained: no node_modules, no sources (dist/compile-cache included;
# read-only for the function's user, so a start never writes to it)
COPY --from=build --chown=0:0 /src/dist/ ./dist/
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/bin/sh", "-c", "case \"$FUNCTION\" in sync|query|cli) exec node \"/app/dist/$FUNCTION.js\" \"$@\" ;; *) echo \"FUNCTION must be sync, query or cli (got '$FUNCTION')\" >&2; exit 64 ;; esac", "entrypoint"]
