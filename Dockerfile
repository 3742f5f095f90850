# quotaflow: one image for every command (worker, api, migrate, apply, simulate...).
#   docker build -t quotaflow .
#   docker run --rm quotaflow --help

FROM node:20-bookworm-slim AS build
WORKDIR /app
# dependencies first: this layer is rebuilt only when package*.json change
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) needs the sources, which come next
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY workers workers
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY package.json ./
COPY bin bin
COPY drizzle drizzle
COPY --from=build /app/dist dist
# the image's own user (uid 1000), never root
USER node
# `quotaflow api` answers /healthz; other commands (worker, simulate...) serve no HTTP here and count
# as healthy while their process runs (docker-compose.yml gives them checks of their own)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "const a=require('fs').readFileSync('/proc/1/cmdline','utf8').split('\\0');if(!a.includes('api'))process.exit(0);const i=a.indexOf('--port');const p=i>0?a[i+1]:(process.env.QUOTAFLOW_API_PORT||'8080');fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/quotaflow.js"]
CMD ["worker"]
