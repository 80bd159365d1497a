-- The demo source `pnpm start` backs up when no source is configured: a small shop.
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');

CREATE TABLE customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  country char(2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  title text NOT NULL,
  price numeric(10, 2) NOT NULL CHECK (price >= 0),
  attributes jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  status order_status NOT NULL DEFAULT 'new',
  placed_at timestamptz NOT NULL,
  total numeric(12, 2) NOT NULL
);
CREATE INDEX orders_customer_idx ON orders (customer_id);

CREATE TABLE order_lines (
  order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id bigint NOT NULL REFERENCES products (id),
  quantity integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id)
);

INSERT INTO customers (email, name, country, created_at)
SELECT 'customer' || g || '@example.com', 'Customer ' || g, (ARRAY['FR', 'DE', 'ES', 'IT', 'GB'])[1 + g % 5],
       '2025-01-01'::timestamptz + g * interval '37 minutes'
  FROM generate_series(1, 2000) g;

INSERT INTO products (sku, title, price, attributes)
SELECT 'SKU-' || lpad(g::text, 5, '0'), 'Product ' || g, round((5 + random() * 200)::numeric, 2),
       jsonb_build_object('color', (ARRAY['red', 'blue', 'green'])[1 + g % 3], 'weight_g', 100 + g)
  FROM generate_series(1, 300) g;

INSERT INTO orders (customer_id, status, placed_at, total)
SELECT 1 + g % 2000, (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4]::order_status,
       '2025-06-01'::timestamptz + g * interval '11 minutes', round((10 + random() * 500)::numeric, 2)
  FROM generate_series(1, 10000) g;

INSERT INTO order_lines (order_id, product_id, quantity)
SELECT o.id, 1 + (o.id * 7 + k * 101) % 300, 1 + k -- three different products per order
  FROM orders o, generate_series(1, 3) k;

CREATE VIEW revenue_by_country AS
SELECT c.country, sum(o.total) AS revenue, count(*) AS orders
  FROM orders o JOIN customers c ON c.id = o.customer_id
 WHERE o.status IN ('paid', 'shipped')
 GROUP BY c.country;
