package postgres

// Batch apply: per table, the net changes go through a temporary staging
// table (created in the transaction, dropped at its end):
//
//	COPY stage FROM STDIN (FORMAT binary)
//	DELETE FROM t USING stage s WHERE s.op = 'D' AND t.key = s.key
//	INSERT INTO t SELECT ... FROM stage WHERE op = 'U' ON CONFLICT (key) DO UPDATE SET ...
//	UPDATE t SET c = CASE WHEN <c unchanged> THEN t.c ELSE s.c END ... FROM stage s WHERE s.op = 'P' AND t.key = s.key
//
// 'D' rows carry a key to delete (a deleted row, or the old key of a key
// change), 'U' rows a whole final row, 'P' rows a final row with values
// the source did not send (Unchanged): a mask column says which, and the
// target keeps its own value for them, without reading anything back. A
// 'P' row whose key is not on the target cannot be inserted (its unknown
// values are missing); that is logged. Without a unique index on the key,
// the upsert is a delete of the 'U' keys and a plain insert.
//
// Rows are written in the order of their last change, so that secondary
// unique constraints see the source's order as far as one statement can.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector/applyplan"
	"github.com/godwit-dms/godwit/internal/record"
)

// Names of the staging table's own columns.
const (
	applyStageOp        = `"godwit$op"`
	applyStageUnchanged = `"godwit$unchanged"`
)

// pgBatch is a batch prepared for apply (applyplan.Prepare).
type pgBatch struct {
	c *Conn
	*applyplan.Batch[*applyTable]
}

// Apply implements connector.PreparedBatch: the segments go in one
// transaction, per segment each table's net changes (or its changes in
// order, for tables that need it), then the truncates that end it.
func (b *pgBatch) Apply(ctx context.Context) error {
	if len(b.Segs) == 0 {
		return nil
	}
	return b.c.onSession(ctx, b.Tabs, func(a *pgApply) error {
		if err := a.queueSQL(ctx, "BEGIN", ""); err != nil {
			return err
		}
		for _, seg := range b.Segs {
			var ops []applyOp
			for _, n := range seg.Nets {
				if n.Transactional {
					ops = append(ops, applyplan.Ops(ctx, applyEngine, n.Changes)...)
					continue
				}
				if err := a.stage(ctx, n.Tab, b.Staged[n]); err != nil {
					return err
				}
			}
			if err := a.queueOps(ctx, ops); err != nil {
				return err
			}
			for _, tab := range seg.Truncate {
				if err := a.queueSQL(ctx, "TRUNCATE "+tab.name, tab.name); err != nil {
					return err
				}
			}
		}
		if err := a.queueSQL(ctx, "COMMIT", ""); err != nil {
			return err
		}
		return a.flush(ctx)
	})
}

// stage applies the net changes of one table through its staging table.
func (a *pgApply) stage(ctx context.Context, tab *applyTable, s *applyplan.Staged) error {
	if len(s.Rows) == 0 {
		return nil
	}
	stage := "pg_temp." + quoteIdent(fmt.Sprintf("godwit_stage_%d", tab.index))
	cols := pgColumnList(tab)
	if tab.stage == "" {
		tab.stage = stage
		err := a.queueSQL(ctx, "CREATE TEMP TABLE "+quoteIdent(fmt.Sprintf("godwit_stage_%d", tab.index))+" ON COMMIT DROP AS SELECT "+
			cols+", NULL::text AS "+applyStageOp+", NULL::text AS "+applyStageUnchanged+" FROM "+tab.name+" WITH NO DATA", tab.name)
		if err != nil {
			return err
		}
	} else if err := a.queueSQL(ctx, "TRUNCATE "+stage, tab.name); err != nil {
		return err
	}
	if err := a.copyStage(ctx, tab, cols, s.Rows); err != nil {
		return err
	}

	match := make([]string, len(tab.KeyIdx))
	for i, k := range tab.KeyIdx {
		q := quoteIdent(tab.T.Columns[k].Name)
		match[i] = "t." + q + " = s." + q
	}
	on := strings.Join(match, " AND ")
	if s.Dels > 0 || !tab.upsert && s.Whole > 0 {
		ops := "'D'"
		if !tab.upsert {
			ops += ", 'U'"
		}
		err := a.queueSQL(ctx, "DELETE FROM "+tab.name+" AS t USING "+stage+" AS s WHERE s."+applyStageOp+" IN ("+ops+") AND "+on, tab.name)
		if err != nil {
			return err
		}
	}
	if s.Whole > 0 {
		sql := "INSERT INTO " + tab.name + " (" + cols + ") SELECT " + cols + " FROM " + stage + " WHERE " + applyStageOp + " = 'U'"
		if tab.upsert {
			sql += " ON CONFLICT (" + pgKeyList(tab) + ")" + pgConflictAction(tab)
		}
		if err := a.queueSQL(ctx, sql, tab.name); err != nil {
			return err
		}
	}
	if s.Partial > 0 {
		var sets []string
		for i, col := range tab.T.Columns {
			if tab.IsKey[i] {
				continue
			}
			q := quoteIdent(col.Name)
			sets = append(sets, fmt.Sprintf("%s = CASE WHEN substr(s.%s, %d, 1) = 'u' THEN t.%s ELSE s.%s END", q, applyStageUnchanged, i+1, q, q))
		}
		if len(sets) > 0 {
			err := a.queueSQLExpect(ctx, "UPDATE "+tab.name+" AS t SET "+strings.Join(sets, ", ")+" FROM "+stage+" AS s WHERE s."+applyStageOp+" = 'P' AND "+on,
				tab.name, int64(s.Partial))
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Batch apply's staging COPY is encoded as it is sent, so that the target
// takes in the first rows while the later ones are encoded. In binary, a
// value of a shape only text COPY takes (errNeedText) can turn up after
// rows were sent: the COPY runs under a savepoint, and such a failure
// rolls it back and sends the rows again as text.
const applyStageSavepoint = "godwit_stage"

// copyStage sends rows into tab's staging table (truncated or created by
// the statements queued before it); cols is the list of tab's columns.
func (a *pgApply) copyStage(ctx context.Context, tab *applyTable, cols string, rows []record.Row) error {
	encs := append(slices.Clone(tab.encs), encText, encText)
	kinds := append(slices.Clone(tab.kinds), record.KindText, record.KindText)
	useBinary := true
	for i := range encs {
		useBinary = useBinary && binaryFits(kinds[i], encs[i])
	}
	stmt := "COPY " + tab.stage + " (" + cols + ", " + applyStageOp + ", " + applyStageUnchanged + ") FROM STDIN"
	if useBinary {
		if err := a.queueSQL(ctx, "SAVEPOINT "+applyStageSavepoint, tab.name); err != nil {
			return err
		}
	}
	if err := a.flush(ctx); err != nil {
		return err
	}
	if useBinary {
		src := &copySource{rows: rows, encs: encs, kinds: kinds, binary: true}
		_, err := a.pg.PgConn().CopyFrom(ctx, src, stmt+" (FORMAT binary)")
		if err == nil {
			return a.queueSQL(ctx, "RELEASE SAVEPOINT "+applyStageSavepoint, tab.name)
		}
		if !errors.Is(src.err, errNeedText) || ctx.Err() != nil || a.pg.IsClosed() {
			return tab.stageError(ctx, a.pg, src, err)
		}
		if err := a.queueSQL(ctx, "ROLLBACK TO SAVEPOINT "+applyStageSavepoint, tab.name); err != nil {
			return err
		}
		if err := a.queueSQL(ctx, "RELEASE SAVEPOINT "+applyStageSavepoint, tab.name); err != nil {
			return err
		}
		if err := a.flush(ctx); err != nil {
			return err
		}
	}
	src := &copySource{rows: rows, encs: encs, kinds: kinds}
	if _, err := a.pg.PgConn().CopyFrom(ctx, src, stmt); err != nil {
		return tab.stageError(ctx, a.pg, src, err)
	}
	return nil
}

// stageError is the error of a staging COPY: a value the encoder refused
// rejects a row (the engine then applies the changes one by one); the
// server's failures are classified as the other statements' are.
func (tab *applyTable) stageError(ctx context.Context, pg *pgx.Conn, src *copySource, err error) error {
	if src.err == nil || ctx.Err() != nil || pg.IsClosed() {
		return applyError(ctx, pg, tab.name, err)
	}
	col := ""
	if src.errCol >= 0 && src.errCol < len(tab.T.Columns) {
		col = ", column " + quoteIdent(tab.T.Columns[src.errCol].Name)
	}
	return fmt.Errorf("%w: applying changes to %s%s: %w", ErrRowRejected, tab.name, col, src.err)
}
