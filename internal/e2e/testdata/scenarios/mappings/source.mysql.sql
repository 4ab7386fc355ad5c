SET SESSION max_recursive_iterations = 100000;
CREATE TABLE customers (id int PRIMARY KEY, first_name text, last_name text, email varchar(100), secret text);
INSERT INTO customers WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500)
  SELECT n, CONCAT('First', n), CONCAT('Last', n), CONCAT('u', n, '@example.com'), CONCAT('pw', n) FROM g;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount decimal(10,2));
INSERT INTO orders WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000)
  SELECT n, n % 500 + 1, n % 40 FROM g;
CREATE TABLE audit_log (id int PRIMARY KEY, what text);
INSERT INTO audit_log VALUES (1, 'x');
CREATE TABLE tmp_scratch (id int);
CREATE TABLE tmpxscratch (id int);
