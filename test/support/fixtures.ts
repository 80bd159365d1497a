// A source database holding every kind of object a backup must carry, and the two measures of
// fidelity the tests compare: pg_dump --schema-only's text and each table's ordered data checksum.
import { execFileSync } from 'node:child_process';
import { withClient } from './pg.js';

export const RICH_SCHEMA_SQL = String.raw`
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE SCHEMA "Weird Schema";
COMMENT ON SCHEMA "Weird Schema" IS 'a schema whose name needs quotes';

CREATE TABLE people (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name citext NOT NULL,
  mood mood,
  age positive_int,
  tags text[],
  scores integer[],
  attrs jsonb,
  kv hstore,
  photo bytea,
  balance numeric(20, 6),
  born timestamptz,
  name_upper text GENERATED ALWAYS AS (upper(name::text)) STORED
);
COMMENT ON TABLE people IS 'Les gens — ünïcödé, 日本語';
COMMENT ON COLUMN people.name IS 'case-insensitive';

CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  person_id integer NOT NULL REFERENCES people (id),
  total numeric(12, 2) NOT NULL,
  placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_person_idx ON orders (person_id);

CREATE SEQUENCE ticket_seq START 1000 INCREMENT 7;

CREATE TABLE "Weird Schema"."Quoted ""Table""" (
  id bigserial PRIMARY KEY,
  "Mixed Case" text,
  "ñandú" integer,
  "select" text
);

CREATE TABLE measurements (city text NOT NULL, logdate date NOT NULL, peak integer) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

CREATE VIEW happy_people AS SELECT id, name FROM people WHERE mood = 'happy';
CREATE MATERIALIZED VIEW mood_counts AS SELECT mood, count(*) AS n FROM people GROUP BY mood;

CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated := '2026-01-01 00:00:00+00';
  RETURN NEW;
END $$;
CREATE TABLE audit_log (id serial PRIMARY KEY, note text, updated timestamptz);
CREATE TRIGGER audit_touch BEFORE INSERT OR UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION touch();

CREATE FUNCTION add_tax(amount numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT round(amount * 1.2, 2)';

CREATE TABLE documents (id serial PRIMARY KEY, title text, content oid);

INSERT INTO people (name, mood, age, tags, scores, attrs, kv, photo, balance, born)
SELECT 'Person ' || g || CASE WHEN g % 7 = 0 THEN ' Zoë' ELSE '' END,
       (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood,
       18 + g % 60,
       ARRAY['tag' || g % 5, 'line' || E'\n' || 'break', 'quote"'],
       ARRAY[g, g * 2],
       jsonb_build_object('n', g, 'nested', jsonb_build_object('ok', g % 2 = 0), 'text', 'ünï ' || g),
       hstore('k' || g, 'v' || g),
       decode(md5(g::text), 'hex'),
       g * 1.123456,
       '2000-01-01 00:00:00+00'::timestamptz + g * interval '1 day 3 hours'
  FROM generate_series(1, 500) g;
INSERT INTO people (name, mood) VALUES ('Nulls', NULL);

INSERT INTO orders (person_id, total, placed_at)
SELECT 1 + g % 500, g * 3.5, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 2000) g;

INSERT INTO "Weird Schema"."Quoted ""Table""" ("Mixed Case", "ñandú", "select")
SELECT 'Case ' || g, g, 'tab' || E'\t' || 'bed' FROM generate_series(1, 50) g;

INSERT INTO measurements SELECT 'Paris', '2025-01-01'::date + g, g % 40 FROM generate_series(0, 600) g;

INSERT INTO audit_log (note) SELECT 'note ' || g FROM generate_series(1, 20) g;

SELECT nextval('ticket_seq') FROM generate_series(1, 3);

INSERT INTO documents (title, content) VALUES
  ('first', lo_from_bytea(0, 'hello large object'::bytea)),
  ('second', lo_from_bytea(0, decode(repeat('00ff', 5000), 'hex')));

REFRESH MATERIALIZED VIEW mood_counts;
`;

export async function createRichDatabase(url: string): Promise<void> {
  await withClient(url, (client) => client.query(RICH_SCHEMA_SQL));
}

/** pg_dump --schema-only, without the lines that differ between any two dumps (\restrict keys). */
export function schemaDump(url: string): string {
  const out = execFileSync('pg_dump', ['--schema-only', '--no-owner', `--dbname=${url}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out
    .split('\n')
    .filter((line) => !/^\\(un)?restrict /.test(line))
    .join('\n');
}

/** schema.table → md5 of its rows in order; sequences' state; large objects' content. */
export async function dataChecksums(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const result: Record<string, string> = {};
    const { rows: tables } = await client.query<{ schema: string; name: string; kind: string; populated: boolean }>(`
      SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.relispopulated AS populated
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'm', 'S') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
       ORDER BY 1, 2`);
    for (const t of tables) {
      if (!t.populated) {
        result[`${t.schema}.${t.name}`] = 'unpopulated';
        continue;
      }
      const name = `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`;
      const sql =
        t.kind === 'S'
          ? `SELECT md5(last_value::text || ':' || is_called::text) AS sum, 1 AS n FROM ${name}`
          : `SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS sum, count(*) AS n FROM ONLY ${name} x`;
      const { rows } = await client.query<{ sum: string; n: string }>(sql);
      result[`${t.schema}.${t.name}`] = `${rows[0]!.n}:${rows[0]!.sum}`;
    }
    const { rows: lo } = await client.query<{ sum: string | null }>(
      "SELECT md5(string_agg(loid::text || ':' || encode(data, 'hex'), ',' ORDER BY loid, pageno)) AS sum FROM pg_largeobject",
    );
    result['(large objects)'] = lo[0]!.sum ?? 'none';
    return result;
  });
}

/** Row counts of every user table (for schema-only checks). */
export async function rowCounts(url: string): Promise<Record<string, number>> {
  const sums = await dataChecksums(url);
  return Object.fromEntries(
    Object.entries(sums)
      .filter(([key]) => key !== '(large objects)')
      .map(([key, value]) => [key, value === 'unpopulated' ? 0 : Number(value.split(':')[0])]),
  );
}
