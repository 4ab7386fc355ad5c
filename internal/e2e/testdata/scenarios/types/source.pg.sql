CREATE TYPE {{src}}.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE {{src}}.types (
  id bigint PRIMARY KEY,
  i2 smallint, i4 integer, i8 bigint,
  num numeric(20,6), f4 real, f8 double precision,
  vc varchar(64), ch char(5), tx text,
  bin bytea, flag boolean,
  d date, tm time(6), ts timestamp(6), tstz timestamptz(6),
  js jsonb, u uuid, e {{src}}.mood, arr int[], tarr text[]
);
INSERT INTO {{src}}.types VALUES
 (1, -32768, -2147483648, -9223372036854775808, -12345678901234.123456, 1.5, 3.25, 'plain', 'ab', 'short text', '\x00ff10', true,
  '2024-02-29', '12:34:56.123456', '2024-02-29 23:59:59.999999', '2024-02-29 23:59:59.5+02', '{"k": "v", "n": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', '{1,2,3}', '{"a b","c,d",NULL}'),
 (2, 32767, 2147483647, 9223372036854775807, 99999999999999.999999, -2.25, -0.125, 'ünïcødé 🐦 日本', 'xyzzy', repeat('long ', 2000), '\x', false,
  '1970-01-01', '00:00:00', '1999-12-31 00:00:00', '1970-01-01 00:00:00+00', '{"k": "w\"q", "n": [1, 2]}', '00000000-0000-0000-0000-000000000000', 'sad', '{}', '{}'),
 (3, 0, 0, 0, 0, 0, 0, '', '', '', '\x01', false, '0001-01-01', '23:59:59.999999', '2100-01-01 12:00:00.000001', '2100-01-01 12:00:00.000001+00', '{}', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'ok', '{-1}', '{x}'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO {{src}}.types (id, i4, vc, tx, num) SELECT g, g, 'row ' || g, md5(g::text), g / 7.0 FROM generate_series(10, 2009) g;
