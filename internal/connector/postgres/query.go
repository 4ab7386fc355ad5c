package postgres

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

var _ connector.SQLQuerier = (*Conn)(nil)

// QueryRows runs a read-only query (premigration assessments) on a data
// session of the connector and returns the column names and every row.
// Results are fetched as text and converted: booleans to bool, integers to
// int64, floats to float64, bytea to []byte, date and timestamps to
// time.Time (UTC); everything else (numeric, uuid, json, arrays, intervals,
// extension types...) stays the server's text. NULL is nil. Cancelling ctx
// cancels the statement on the server, and the session is then discarded.
func (c *Conn) QueryRows(ctx context.Context, query string, args ...any) ([]string, []record.Row, error) {
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		// A cancel request may still reach the server after the statement
		// ended: the session must not run anything else.
		if ctx.Err() != nil {
			closeQuietly(pg)
		}
		c.data.release(pg)
	}()
	qargs := make([]any, 0, len(args)+1)
	qargs = append(qargs, pgx.QueryResultFormats{pgx.TextFormatCode})
	qargs = append(qargs, args...)
	rows, err := pg.Query(ctx, query, qargs...)
	if err != nil {
		return nil, nil, classify(ctx, pg, "running the query", err)
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = f.Name
	}
	var out []record.Row
	for rows.Next() {
		raw := rows.RawValues()
		row := make(record.Row, len(fields))
		for i, f := range fields {
			if raw[i] != nil {
				row[i] = textValue(f.DataTypeOID, string(raw[i]))
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, classify(ctx, pg, "reading the query's rows", err)
	}
	return cols, out, nil
}

// textValue converts the text output of a value of type oid to its Go
// value; a text it cannot parse is returned as it is.
func textValue(oid uint32, s string) any {
	switch oid {
	case oidBool:
		return s == "t"
	case oidInt2, oidInt4, oidInt8, oidOID:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case oidFloat4, oidFloat8:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case oidBytea:
		if b, err := hex.DecodeString(strings.TrimPrefix(s, `\x`)); err == nil {
			return b
		}
	case oidDate:
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t
		}
	case oidTimestamp:
		if t, err := time.Parse("2006-01-02 15:04:05.999999999", s); err == nil {
			return t
		}
	case oidTimestampTZ:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07:00:00"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC()
			}
		}
	}
	return s
}
