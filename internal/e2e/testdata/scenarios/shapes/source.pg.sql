CREATE TABLE {{src}}.nopk (a int, b text);
INSERT INTO {{src}}.nopk VALUES (1, 'a'), (1, 'a'), (2, NULL), (NULL, NULL);
CREATE TABLE {{src}}.empty (id int PRIMARY KEY, v text);
CREATE TABLE {{src}}."Order Items" ("Item Id" int PRIMARY KEY, "select" text, "CamelCase" int);
INSERT INTO {{src}}."Order Items" VALUES (1, 'from', 10), (2, 'where', 20);
CREATE TABLE {{src}}.composite (a int, b varchar(10), c text, PRIMARY KEY (a, b));
INSERT INTO {{src}}.composite SELECT g % 7, 'k' || g, 'v' || g FROM generate_series(1, 3000) g;
DO $$ DECLARE cols text := ''; BEGIN
  FOR i IN 1..60 LOOP cols := cols || format(', c%s int', i); END LOOP;
  EXECUTE 'CREATE TABLE {{src}}.wide (id int PRIMARY KEY' || cols || ')';
END $$;
INSERT INTO {{src}}.wide (id, c1, c30, c60) SELECT g, g, g * 2, g * 3 FROM generate_series(1, 100) g;
