SET SESSION max_recursive_iterations = 100000;
CREATE TABLE types (
  id bigint PRIMARY KEY,
  i2 smallint, i4 int, i8 bigint,
  num decimal(20,6), f4 float, f8 double,
  vc varchar(64), ch char(5), tx text,
  bin blob, flag boolean,
  d date, tm time(6), ts datetime(6), tstz timestamp(6) NULL DEFAULT NULL,
  js json, u char(36), e enum('sad','ok','happy'), arr text, tarr text
) CHARACTER SET utf8mb4;
INSERT INTO types VALUES
 (1, -32768, -2147483648, -9223372036854775808, -12345678901234.123456, 1.5, 3.25, 'plain', 'ab', 'short text', X'00ff10', true,
  '2024-02-29', '12:34:56.123456', '2024-02-29 23:59:59.999999', '2024-02-29 21:59:59.5', '{"k": "v", "n": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', '{1,2,3}', '{"a b","c,d",NULL}'),
 (2, 32767, 2147483647, 9223372036854775807, 99999999999999.999999, -2.25, -0.125, 'ünïcødé 🐦 日本', 'xyzzy', REPEAT('long ', 2000), X'', false,
  '1970-01-01', '00:00:00', '1999-12-31 00:00:00', '1970-01-01 00:00:01', '{"k": "w\\"q", "n": [1, 2]}', '00000000-0000-0000-0000-000000000000', 'sad', '{}', '{}'),
 (3, 0, 0, 0, 0, 0, 0, '', '', '', X'01', false, '1000-01-01', '23:59:59.999999', '2100-01-01 12:00:00.000001', '2038-01-01 12:00:00.000001', '{}', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'ok', '{-1}', '{x}'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO types (id, i4, vc, tx, num)
  WITH RECURSIVE g(n) AS (SELECT 10 UNION ALL SELECT n + 1 FROM g WHERE n < 2009)
  SELECT n, n, CONCAT('row ', n), MD5(n), n / 7.0 FROM g;
