CREATE TABLE {{src}}.customers (id int PRIMARY KEY, first_name text, last_name text, email varchar(100), secret text);
INSERT INTO {{src}}.customers SELECT g, 'First' || g, 'Last' || g, 'u' || g || '@example.com', 'pw' || g FROM generate_series(1, 500) g;
CREATE TABLE {{src}}.orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2));
INSERT INTO {{src}}.orders SELECT g, g % 500 + 1, g % 40 FROM generate_series(1, 1000) g;
CREATE TABLE {{src}}.audit_log (id int PRIMARY KEY, what text);
INSERT INTO {{src}}.audit_log VALUES (1, 'x');
CREATE TABLE {{src}}.tmp_scratch (id int);
CREATE TABLE {{src}}.tmpxscratch (id int);
