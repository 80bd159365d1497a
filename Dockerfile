# One image for the API, the worker and the CLI: `docker compose` picks the command.
FROM node:20-bookworm-slim AS build
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=1
RUN npm install -g pnpm@12.21.0
WORKDIR /app
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY shared/package.json shared/
COPY shared/contract/package.json shared/contract/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
COPY services/cli/package.json services/cli/
COPY services/web/package.json services/web/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm build

FROM node:20-bookworm-slim
# pg_dump/pg_restore for PostgreSQL 15 servers; add postgresql-client-<major> from apt.postgresql.org
# for other majors (coffre picks /usr/lib/postgresql/<major>/bin by the server's version).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client zstd age ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g pnpm@12.21.0
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 BACKUP_DIR=/backups
RUN mkdir -p /backups && chown node:node /backups
USER node
EXPOSE 3000
CMD ["node", "services/api/dist/main.js"]
