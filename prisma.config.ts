// The Prisma CLI's configuration (generate, migrate). The services connect through the pg adapter.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    // `prisma generate` needs no database; migrations use DATABASE_URL.
    url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/coffre',
  },
});
