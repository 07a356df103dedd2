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
RUN node scripts/build.ts

# --- runtime: Node 24 and the bundles, nothing else --------------------------------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    FUNCTION=query \
    PORT=8080
WORKDIR /app
# the bundles are self-contained: no node_modules, no sources
COPY --from=build --chown=0:0 /src/dist/ ./dist/
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/bin/sh", "-c", "case \"$FUNCTION\" in sync|query|cli) exec node \"/app/dist/$FUNCTION.js\" \"$@\" ;; *) echo \"FUNCTION must be sync, query or cli (got '$FUNCTION')\" >&2; exit 64 ;; esac", "entrypoint"]
