package bench

import (
	"context"
	"fmt"
)

// The benchmark table, column for column and value for value the table of
// ../shared/bench/lib.sh (pg_create_table, pg_fill_table, maria_create_table,
// maria_fill_table), so the figures here and the shared scripts' figures
// are about the same bytes: ~300 bytes a row, 2M rows = ~600 MB of heap.

// table is the name of the benchmark table on every server.
const table = "t"

// pgTableCols is lib.sh's PG_TABLE_COLS.
const pgTableCols = `id bigint NOT NULL,
  account_id integer NOT NULL,
  qty integer NOT NULL,
  version bigint NOT NULL,
  code varchar(64) NOT NULL,
  note text,
  amount numeric(14,2),
  created_at timestamptz NOT NULL,
  active boolean NOT NULL,
  attrs jsonb`

// mariaTableCols is lib.sh's MARIA_TABLE_COLS.
const mariaTableCols = `id bigint NOT NULL PRIMARY KEY,
  account_id int NOT NULL,
  qty int NOT NULL,
  version bigint NOT NULL,
  code varchar(64) NOT NULL,
  note text,
  amount decimal(14,2),
  created_at datetime(6) NOT NULL,
  active boolean NOT NULL,
  attrs json`

// pgFillSQL is lib.sh's pg_fill_table INSERT.
func pgFillSQL(rows int64) string {
	return fmt.Sprintf(`INSERT INTO t
    SELECT g,
           (g * 7919) %% 100000,
           g %% 1000,
           g * 31,
           'C-' || md5(g::text),
           substr(repeat(md5((g * 3)::text), 4), 1, 100),
           ((g * 104729) %% 100000000) / 100.0,
           timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',
           g %% 3 = 0,
           jsonb_build_object('k', g, 'tag', 'tag' || (g %% 100), 'flags', jsonb_build_array(g %% 7, g %% 11), 'ok', g %% 2 = 0)
    FROM generate_series(1::bigint, %d) g`, rows)
}

// mariaFillSQL is lib.sh's maria_fill_table INSERT (same values as pgFillSQL).
func mariaFillSQL(rows int64) string {
	return fmt.Sprintf(`INSERT INTO t
    SELECT seq, (seq * 7919) %% 100000, seq %% 1000, seq * 31,
           concat('C-', md5(seq)),
           substr(repeat(md5(seq * 3), 4), 1, 100),
           ((seq * 104729) %% 100000000) / 100.0,
           timestamp'2024-01-01 00:00:00' + interval seq second,
           seq %% 3 = 0,
           json_object('k', seq, 'tag', concat('tag', seq %% 100), 'flags', json_array(seq %% 7, seq %% 11), 'ok', seq %% 2 = 0)
    FROM seq_1_to_%d`, rows)
}

// pgVariant is a target table shape of lib.sh's pg_create_table.
type pgVariant string

const (
	variantNoIdx pgVariant = "noidx" // heap only
	variantPK    pgVariant = "pk"    // what AWS DMS creates
)

// pgCreateTable drops and creates t on a PostgreSQL database, with or
// without its primary key (pg_create_table).
func pgCreateTable(ctx context.Context, p *pgSide, v pgVariant) error {
	stmts := []string{"SET client_min_messages = warning", "DROP TABLE IF EXISTS t", "CREATE TABLE t (" + pgTableCols + ")"}
	if v == variantPK {
		stmts = append(stmts, "ALTER TABLE t ADD PRIMARY KEY (id)")
	}
	return p.exec(ctx, stmts...)
}

// pgFill creates and fills the source table, then freezes, analyzes and
// checkpoints it (pg_fill_table).
func pgFill(ctx context.Context, p *pgSide, rows int64) error {
	if err := pgCreateTable(ctx, p, variantPK); err != nil {
		return err
	}
	return p.exec(ctx, pgFillSQL(rows), "VACUUM (FREEZE, ANALYZE) t", "CHECKPOINT")
}

// mariaCreateTable drops and creates t in db (maria_create_table).
func mariaCreateTable(ctx context.Context, m *mariaSide, db string) error {
	return m.exec(ctx, db, "DROP TABLE IF EXISTS t", "CREATE TABLE t ("+mariaTableCols+") ENGINE=InnoDB")
}

// mariaFill creates and fills the source table without binlogging it
// (maria_fill_table).
func mariaFill(ctx context.Context, m *mariaSide, rows int64) error {
	if err := mariaCreateTable(ctx, m, mariaSrcDB); err != nil {
		return err
	}
	return m.exec(ctx, mariaSrcDB, "SET SESSION sql_log_bin = 0", mariaFillSQL(rows), "ANALYZE TABLE t")
}

// The queries of ../shared/bench/maria_pg.sh.
const (
	// mariaSelect is MSEL: what mariadb --batch streams into PostgreSQL.
	mariaSelect = "SELECT id, account_id, qty, version, code, note, amount, created_at, active, attrs FROM t"
	// pgSelectForMaria is PSEL: the PostgreSQL rows shaped for LOAD DATA.
	pgSelectForMaria = "SELECT id, account_id, qty, version, code, note, amount, (created_at AT TIME ZONE 'UTC'), active::int, attrs FROM t"
)
