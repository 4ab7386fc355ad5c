SET SESSION max_recursive_iterations = 100000;
CREATE TABLE nopk (a int, b text);
INSERT INTO nopk VALUES (1, 'a'), (1, 'a'), (2, NULL), (NULL, NULL);
CREATE TABLE empty (id int PRIMARY KEY, v text);
CREATE TABLE `Order Items` (`Item Id` int PRIMARY KEY, `select` text, `CamelCase` int);
INSERT INTO `Order Items` VALUES (1, 'from', 10), (2, 'where', 20);
CREATE TABLE composite (a int, b varchar(10), c text, PRIMARY KEY (a, b));
INSERT INTO composite WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 3000)
  SELECT n % 7, CONCAT('k', n), CONCAT('v', n) FROM g;
CREATE TABLE wide (id int PRIMARY KEY, c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, c7 int, c8 int, c9 int, c10 int,
 c11 int, c12 int, c13 int, c14 int, c15 int, c16 int, c17 int, c18 int, c19 int, c20 int, c21 int, c22 int, c23 int, c24 int, c25 int,
 c26 int, c27 int, c28 int, c29 int, c30 int, c31 int, c32 int, c33 int, c34 int, c35 int, c36 int, c37 int, c38 int, c39 int, c40 int,
 c41 int, c42 int, c43 int, c44 int, c45 int, c46 int, c47 int, c48 int, c49 int, c50 int, c51 int, c52 int, c53 int, c54 int, c55 int,
 c56 int, c57 int, c58 int, c59 int, c60 int);
INSERT INTO wide (id, c1, c30, c60) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100) SELECT n, n, n * 2, n * 3 FROM g;
