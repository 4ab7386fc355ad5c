package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/godwit-dms/godwit/internal/record"
)

// Multi-row INSERT statements stay below this size (and below the server's
// max_allowed_packet).
const maxInsertBytes = 8 << 20

// Load writes rows (in t's column order) into the target table in one
// transaction. It streams them through LOAD DATA LOCAL INFILE from memory
// (tab-separated, escaped text); when the server refuses local files it
// falls back, for this and later loads, to multi-row INSERTs. A row the
// server refuses fails the whole batch with a *RowError (ErrRowRejected):
// LOAD DATA LOCAL turns data errors into warnings and changed values, so
// any warning rolls the batch back.
func (c *Conn) Load(ctx context.Context, t *record.Table, rows []record.Row) error {
	if len(rows) == 0 {
		return nil
	}
	db, err := c.targetDatabase(t)
	if err != nil {
		return err
	}
	tcols, err := c.targetColumns(ctx, db, t.Name)
	if err != nil {
		return err
	}
	cols := make([]encCol, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = encCol{name: col.Name, kind: col.Type.Kind, bit: tcols[col.Name] == "bit"}
	}
	pool, err := c.dataDB()
	if err != nil {
		return err
	}
	label := "loading " + tableLabel(db, t.Name)
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return classify(ctx, label, err, 0)
	}
	if err := c.load(ctx, tx, db, t, cols, rows); err != nil {
		_ = tx.Rollback()
		return err
	}
	return classify(ctx, label, tx.Commit(), 0)
}

func (c *Conn) load(ctx context.Context, tx *sql.Tx, db string, t *record.Table, cols []encCol, rows []record.Row) error {
	if !c.noLocalInfile.Load() {
		err := loadData(ctx, tx, db, t, cols, rows)
		if !errIsMySQL(err, erNotAllowedCommand, erClientLocalFilesOff, erLocalInfileDisabled) {
			return err
		}
		if !c.noLocalInfile.Swap(true) {
			slog.WarnContext(ctx, "mysql target refuses LOAD DATA LOCAL INFILE (local_infile is OFF): loading with multi-row INSERTs, which is slower. Set local_infile = ON on the server for faster loads",
				"endpoint", c.cfg, "err", err)
		}
	}
	limit, err := c.insertLimit(ctx, tx)
	if err != nil {
		return err
	}
	return insertRows(ctx, tx, db, t, cols, rows, limit)
}

// loadData streams rows through LOAD DATA LOCAL INFILE and turns any
// warning into a RowError.
func loadData(ctx context.Context, tx *sql.Tx, db string, t *record.Table, cols []encCol, rows []record.Row) error {
	label := "loading " + tableLabel(db, t.Name)
	name := readerName()
	r := &tsvReader{rows: rows, cols: cols}
	gomysql.RegisterReaderHandler(name, func() io.Reader { return r })
	defer gomysql.DeregisterReaderHandler(name)

	var list, set []string
	for i, col := range cols {
		if col.bit {
			v := fmt.Sprintf("@v%d", i)
			list = append(list, v)
			set = append(set, quoteIdent(col.name)+" = CAST("+v+" AS UNSIGNED)")
			continue
		}
		list = append(list, quoteIdent(col.name))
	}
	q := "LOAD DATA LOCAL INFILE 'Reader::" + name + "' INTO TABLE " + qualified(db, t.Name) +
		" CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (" +
		strings.Join(list, ", ") + ")"
	if len(set) > 0 {
		q += " SET " + strings.Join(set, ", ")
	}
	_, err := tx.ExecContext(ctx, q)
	if r.err != nil {
		return r.err
	}
	if err != nil {
		if me := mysqlError(err); me != nil && (me.Number == erNotAllowedCommand || me.Number == erClientLocalFilesOff || me.Number == erLocalInfileDisabled) {
			return err
		}
		return classify(ctx, label, err, 0)
	}
	return firstWarning(ctx, tx, label)
}

// firstWarning returns the first warning of the last statement as a
// RowError (notes are off in load sessions: sql_notes = 0).
func firstWarning(ctx context.Context, tx *sql.Tx, label string) error {
	wrows, err := tx.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		return classify(ctx, label, err, 0)
	}
	defer wrows.Close()
	for wrows.Next() {
		var level, msg string
		var code uint16
		if err := wrows.Scan(&level, &code, &msg); err != nil {
			return classify(ctx, label, err, 0)
		}
		if strings.EqualFold(level, "Note") {
			continue
		}
		return newRowError(code, msg, 0, nil)
	}
	return classify(ctx, label, wrows.Err(), 0)
}

// readerName is a process-unique name for a LOAD DATA reader handler.
func readerName() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "godwit-" + hex.EncodeToString(b[:])
}

// tsvReader encodes rows as LOAD DATA text on demand.
type tsvReader struct {
	rows []record.Row
	cols []encCol
	next int
	buf  []byte
	off  int
	err  error // an unencodable value: the batch is rejected
}

func (r *tsvReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for len(r.buf)-r.off < len(p) && r.next < len(r.rows) {
		if r.off > 0 {
			r.buf = r.buf[:copy(r.buf, r.buf[r.off:])]
			r.off = 0
		}
		if err := r.encode(r.next); err != nil {
			r.err = err
			return 0, err
		}
		r.next++
	}
	if r.off == len(r.buf) {
		return 0, io.EOF
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

func (r *tsvReader) encode(i int) error {
	row := r.rows[i]
	if len(row) != len(r.cols) {
		return &RowError{Row: i, Message: fmt.Sprintf("the row has %d values for %d columns", len(row), len(r.cols))}
	}
	var err error
	for j, v := range row {
		if j > 0 {
			r.buf = append(r.buf, '\t')
		}
		if r.buf, err = appendTSV(r.buf, r.cols[j], v); err != nil {
			return &RowError{Row: i, Message: err.Error()}
		}
	}
	r.buf = append(r.buf, '\n')
	return nil
}

// insertLimit is the size multi-row INSERTs are cut to.
func (c *Conn) insertLimit(ctx context.Context, tx *sql.Tx) (int, error) {
	if n := c.maxPacket.Load(); n > 0 {
		return int(n), nil
	}
	var packet int64
	if err := tx.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&packet); err != nil {
		return 0, classify(ctx, "reading max_allowed_packet", err, 0)
	}
	limit := min(int64(maxInsertBytes), packet-16<<10)
	limit = max(limit, 64<<10)
	c.maxPacket.Store(limit)
	return int(limit), nil
}

// insertRows writes rows with multi-row INSERTs of at most limit bytes
// (a single larger row is sent alone).
func insertRows(ctx context.Context, tx *sql.Tx, db string, t *record.Table, cols []encCol, rows []record.Row, limit int) error {
	label := "loading " + tableLabel(db, t.Name)
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = quoteIdent(col.name)
	}
	head := "INSERT INTO " + qualified(db, t.Name) + " (" + strings.Join(names, ", ") + ") VALUES "
	buf := make([]byte, 0, min(limit, 1<<20))
	var rowBuf []byte
	first, n := 0, 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, string(buf))
		if err != nil {
			return classify(ctx, label, err, first)
		}
		buf, n = buf[:0], 0
		return nil
	}
	for i, row := range rows {
		if len(row) != len(cols) {
			return &RowError{Row: i, Message: fmt.Sprintf("the row has %d values for %d columns", len(row), len(cols))}
		}
		rowBuf = append(rowBuf[:0], '(')
		var err error
		for j, v := range row {
			if j > 0 {
				rowBuf = append(rowBuf, ',')
			}
			if rowBuf, err = appendSQL(rowBuf, cols[j], v); err != nil {
				return &RowError{Row: i, Message: err.Error()}
			}
		}
		rowBuf = append(rowBuf, ')')
		if n > 0 && len(buf)+1+len(rowBuf) > limit {
			if err := flush(); err != nil {
				return err
			}
		}
		if n == 0 {
			buf = append(buf, head...)
			first = i
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, rowBuf...)
		n++
	}
	return flush()
}
