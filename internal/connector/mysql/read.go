package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

const (
	defaultBatchRows = 10000
	killTimeout      = 10 * time.Second
)

// readPlan is a SELECT and how to decode its columns.
type readPlan struct {
	query string
	args  []any
	cols  []column
}

// planRead builds the SELECT of a ReadRequest: the columns (FLOAT as
// DOUBLE, LOBs cut in limited LOB mode), the filters, the range, the
// resume point and the order.
func planRead(req *connector.ReadRequest, f serverFlavor) (*readPlan, error) {
	t := req.Table
	if t == nil {
		return nil, fmt.Errorf("%w: a read without a table", ErrUnsupported)
	}
	names := req.Columns
	if len(names) == 0 {
		names = make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
	}
	p := &readPlan{cols: make([]column, len(names))}
	exprs := make([]string, len(names))
	for i, n := range names {
		c := t.Column(n)
		if c == nil {
			return nil, fmt.Errorf("%w: table %s has no column %q", ErrUnsupported, t.QualifiedName(), n)
		}
		p.cols[i] = column{name: n, kind: c.Type.Kind}
		if req.LOBMaxBytes > 0 && c.Type.Kind.IsLOB() {
			p.cols[i].lobMax = req.LOBMaxBytes
		}
		exprs[i] = selectExpr(p.cols[i], f)
	}
	w := newWhere(t)
	if err := w.filters(req.Filters); err != nil {
		return nil, err
	}
	if err := w.rangeOf(req.Range); err != nil {
		return nil, err
	}
	if req.After != nil {
		if len(req.OrderBy) == 0 {
			return nil, fmt.Errorf("%w: After needs OrderBy", ErrUnsupported)
		}
		if err := w.tuple(req.OrderBy, ">", req.After); err != nil {
			return nil, err
		}
	}
	var q strings.Builder
	q.WriteString("SELECT ")
	q.WriteString(strings.Join(exprs, ", "))
	q.WriteString(" FROM ")
	q.WriteString(qualified(t.Schema, t.Name))
	q.WriteString(w.sql())
	if len(req.OrderBy) > 0 {
		ob := make([]string, len(req.OrderBy))
		for i, n := range req.OrderBy {
			if t.Column(n) == nil {
				return nil, fmt.Errorf("%w: table %s has no column %q", ErrUnsupported, t.QualifiedName(), n)
			}
			ob[i] = quoteIdent(n)
		}
		q.WriteString(" ORDER BY ")
		q.WriteString(strings.Join(ob, ", "))
	}
	p.query, p.args = q.String(), w.args
	return p, nil
}

// Read streams the rows req selects to fn in batches of req.BatchRows
// (default 10000), on one of the snapshot's sessions: one streaming SELECT,
// decoded from the wire into canonical values. The batch and its rows are
// reused after fn returns. When fn fails the server's query is killed so
// that the session is free again at once.
func (s *Snapshot) Read(ctx context.Context, req *connector.ReadRequest, fn func(rows []record.Row) error) error {
	plan, err := planRead(req, s.flavor)
	if err != nil {
		return err
	}
	batchRows := req.BatchRows
	if batchRows <= 0 {
		batchRows = defaultBatchRows
	}
	label := "reading " + req.Table.QualifiedName()
	return s.onSession(ctx, req.Table.QualifiedName(), func(ss *snapSession) error {
		return s.stream(ctx, ss, label, plan, batchRows, fn)
	})
}

// stream runs plan on ss and hands fn batches of decoded rows.
func (s *Snapshot) stream(ctx context.Context, ss *snapSession, label string, plan *readPlan, batchRows int, fn func([]record.Row) error) error {
	args := make([]driver.NamedValue, len(plan.args))
	for i, a := range plan.args {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	var fnErr error
	err := ss.conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("%w: the driver connection cannot query", ErrUnsupported)
		}
		rows, err := qc.QueryContext(ctx, plan.query, args)
		if err != nil {
			return err
		}
		// abandoned: the result set was left unread (fn or a decode failed).
		abandoned := true
		defer func() {
			if abandoned && ctx.Err() == nil {
				// Kill the query so Close need not read the rest of the
				// result, then settle the session.
				_ = s.killQuery(ss)
				_ = rows.Close()
				s.settle(dc)
				return
			}
			_ = rows.Close()
		}()

		ncol := len(plan.cols)
		dest := make([]driver.Value, ncol)
		batch := make([]record.Row, 0, min(batchRows, 1024))
		var store []record.Row // rows reused across batches
		a := &arena{}
		for {
			err := rows.Next(dest)
			if err == io.EOF {
				break
			}
			if err != nil {
				abandoned = false // the server ended the result
				return err
			}
			n := len(batch)
			if n == len(store) {
				store = append(store, make(record.Row, ncol))
			}
			row := store[n]
			for i := range plan.cols {
				v, err := plan.cols[i].decode(dest[i], a)
				if err != nil {
					return err
				}
				row[i] = v
			}
			batch = append(batch, row)
			if len(batch) == batchRows {
				if fnErr = fn(batch); fnErr != nil {
					return fnErr
				}
				batch = batch[:0]
				a = &arena{}
			}
		}
		abandoned = false
		if len(batch) > 0 {
			if fnErr = fn(batch); fnErr != nil {
				return fnErr
			}
		}
		return nil
	})
	if err != nil && fnErr != nil && errors.Is(err, fnErr) {
		return fnErr
	}
	if err != nil {
		return classify(ctx, label, err, 0)
	}
	return nil
}

// settle makes a session whose query was killed usable again: KILL QUERY
// may have reached it after its query ended, in which case the next
// statement is the one interrupted.
func (s *Snapshot) settle(dc any) {
	ex, ok := dc.(driver.ExecerContext)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	for range 2 {
		if _, err := ex.ExecContext(ctx, "DO 0", nil); !errIsMySQL(err, erQueryInterrupted) {
			return
		}
	}
}
