FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY src src
COPY workers workers
COPY drizzle drizzle
# npm ci runs `prepare` (the TypeScript build); dev dependencies go afterwards
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
USER node
ENTRYPOINT ["node", "bin/quotaflow.js"]
CMD ["worker"]
