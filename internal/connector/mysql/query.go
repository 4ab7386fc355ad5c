package mysql

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

var _ connector.SQLQuerier = (*Conn)(nil)

// QueryRows runs a read-only query (premigration assessments) on a
// short-lived session of its own, opened like CheckConnection's (TLS per
// SslMode, no default database: names must be qualified) and set up by the
// AfterConnectScript, and returns the column names and every row. Integers
// are int64 (BIGINT UNSIGNED uint64), FLOAT and DOUBLE float64, DATE,
// DATETIME and TIMESTAMP time.Time (a zero date is nil), binary strings,
// BLOBs, BIT and spatial values []byte, everything else (DECIMAL, text,
// JSON, TIME...) string; NULL is nil. Cancelling ctx kills the statement on
// the server, not only the client's connection.
func (c *Conn) QueryRows(ctx context.Context, query string, args ...any) ([]string, []record.Row, error) {
	s, err := login(ctx, c.cfg, c.dialer)
	if err != nil {
		return nil, nil, err
	}
	defer s.close()
	stop := s.killOnCancel(ctx, c.cfg, c.dialer)
	defer stop()
	if c.cfg.AfterConnectScript != "" {
		if _, err := s.conn.ExecContext(ctx, c.cfg.AfterConnectScript); err != nil {
			if ctx.Err() != nil {
				return nil, nil, queryError(ctx, connector.StageConfig, "running the AfterConnectScript", err)
			}
			return nil, nil, scriptError(err)
		}
	}
	rows, err := s.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, queryError(ctx, connector.StageDatabase, "running the query", err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, nil, queryError(ctx, connector.StageDatabase, "reading the query's columns", err)
	}
	cols := make([]string, len(types))
	for i, t := range types {
		cols[i] = t.Name()
	}
	var out []record.Row
	for rows.Next() {
		raw := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, queryError(ctx, connector.StageDatabase, "reading the query's rows", err)
		}
		row := make(record.Row, len(types))
		for i, t := range types {
			row[i] = queryValue(t, raw[i])
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, queryError(ctx, connector.StageDatabase, "reading the query's rows", err)
	}
	return cols, out, nil
}

// queryValue converts a value scanned into any (text protocol: []byte,
// binary protocol: typed) after its column's type.
func queryValue(t *sql.ColumnType, v any) any {
	if v == nil {
		return nil
	}
	if tm, ok := v.(time.Time); ok {
		if tm.IsZero() {
			return nil
		}
		return tm.UTC()
	}
	name := t.DatabaseTypeName()
	text := func() string {
		switch x := v.(type) {
		case []byte:
			return string(x)
		case string:
			return x
		case int64:
			return strconv.FormatInt(x, 10)
		case uint64:
			return strconv.FormatUint(x, 10)
		case float32:
			return strconv.FormatFloat(float64(x), 'g', -1, 32)
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return ""
	}
	switch {
	case name == "UNSIGNED BIGINT":
		if n, ok := v.(uint64); ok {
			return n
		}
		if n, ok := v.(int64); ok && n >= 0 {
			return uint64(n)
		}
		if n, err := strconv.ParseUint(text(), 10, 64); err == nil {
			return n
		}
	case strings.HasSuffix(name, "INT") || name == "YEAR":
		if n, ok := v.(int64); ok {
			return n
		}
		if n, err := strconv.ParseInt(text(), 10, 64); err == nil {
			return n
		}
	case name == "FLOAT" || name == "DOUBLE":
		switch x := v.(type) {
		case float64:
			return x
		case float32:
			return float64(x)
		}
		if f, err := strconv.ParseFloat(text(), 64); err == nil {
			return f
		}
	case name == "BINARY" || name == "VARBINARY" || strings.HasSuffix(name, "BLOB") || name == "BIT" || name == "GEOMETRY":
		if b, ok := v.([]byte); ok {
			return append([]byte(nil), b...)
		}
	case name == "DATE" || name == "DATETIME" || name == "TIMESTAMP":
		s := text()
		if strings.HasPrefix(s, "0000-00-00") {
			return nil
		}
		for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02"} {
			if tm, err := time.Parse(layout, s); err == nil {
				return tm
			}
		}
	}
	return text()
}
