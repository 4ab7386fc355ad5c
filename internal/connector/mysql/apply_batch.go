package mysql

// Batch apply: per table, the net changes go through a temporary staging
// table (dropped at the end of the call):
//
//	LOAD DATA LOCAL INFILE ... INTO TABLE stage (or multi-row INSERTs)
//	DELETE t FROM tbl t JOIN stage s ON t.key = s.key WHERE s.op = 'D'
//	INSERT INTO tbl SELECT ... FROM stage WHERE op = 'U' ON DUPLICATE KEY UPDATE c = VALUES(c) ...
//	UPDATE tbl t JOIN stage s ON t.key = s.key SET t.c = IF(<c unchanged>, t.c, s.c) ... WHERE s.op = 'P'
//
// 'D' rows carry a key to delete (a deleted row, or the old key of a key
// change), 'U' rows a whole final row, 'P' rows a final row with values
// the source did not send (Unchanged): a mask column says which, and the
// target keeps its own value for them, without reading anything back (a
// 'P' row whose key is not on the target cannot be inserted). Without a
// unique index on the key, the upsert is a delete of the 'U' keys and a
// plain insert. The staging table has the target's column types, all
// nullable, and no index: the joins use the target's key index. It is made
// before the transaction and dropped after it.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector/applyplan"
	"github.com/godwit-dms/godwit/internal/record"
)

// Names of the staging table's own columns.
const (
	applyStageOp        = "`godwit_op`"
	applyStageUnchanged = "`godwit_unchanged`"
)

// createStages makes the staging table of each table a segment of segs
// applies net changes to: the target's column types, all nullable (the
// inner side of an outer join), and no index.
func (a *myApply) createStages(ctx context.Context, segs []*applySegment) error {
	for _, seg := range segs {
		for _, n := range seg.Nets {
			tab := n.Tab
			if n.Transactional || tab.stage != "" {
				continue
			}
			stage := qualified(tab.db, fmt.Sprintf("godwit_stage_%d", tab.index))
			var sel []string
			for _, c := range tab.cols {
				sel = append(sel, "t."+quoteIdent(c.name))
			}
			for _, stmt := range []string{
				"DROP TEMPORARY TABLE IF EXISTS " + stage,
				"CREATE TEMPORARY TABLE " + stage + " AS SELECT " + strings.Join(sel, ", ") +
					fmt.Sprintf(", CAST(NULL AS CHAR(1)) AS %s, CAST(NULL AS CHAR(%d)) AS %s", applyStageOp, len(tab.cols), applyStageUnchanged) +
					" FROM (SELECT 1) AS godwit_one LEFT JOIN " + tab.name + " AS t ON FALSE WHERE FALSE",
			} {
				if _, err := a.conn.ExecContext(ctx, stmt); err != nil {
					return myApplyError(ctx, tab.Label, err)
				}
			}
			tab.stage = stage
			a.stages = append(a.stages, tab)
		}
	}
	return nil
}

// dropStages drops the staging tables (a session that keeps one, after a
// failure, drops it before making it again).
func (a *myApply) dropStages() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, tab := range a.stages {
		if _, err := a.conn.ExecContext(ctx, "DROP TEMPORARY TABLE IF EXISTS "+tab.stage); err != nil {
			return
		}
	}
}

// runBatch applies the segments of a batch: per segment, each table's net
// changes (or its changes in order, for tables that need it), then the
// truncates that end the segment.
func (a *myApply) runBatch(ctx context.Context, segs []*applySegment, staged map[*applyNet]*applyplan.Staged) error {
	for _, seg := range segs {
		var ops []applyOp
		for _, n := range seg.Nets {
			if n.Transactional {
				ops = append(ops, applyplan.Ops(ctx, applyEngine, n.Changes)...)
				continue
			}
			if err := a.stage(ctx, n.Tab, staged[n]); err != nil {
				return err
			}
		}
		if err := a.runOps(ctx, ops); err != nil {
			return err
		}
		for _, tab := range seg.Truncate {
			if err := a.runOne(ctx, applyOp{Kind: applyplan.Truncate, Tab: tab}); err != nil {
				return err
			}
		}
	}
	return nil
}

// stage applies the net changes of one table through its staging table.
func (a *myApply) stage(ctx context.Context, tab *applyTable, s *applyplan.Staged) error {
	if len(s.Rows) == 0 {
		return nil
	}
	stage := tab.stage
	if tab.staged {
		if _, err := a.tx.ExecContext(ctx, "DELETE FROM "+stage); err != nil {
			return myApplyError(ctx, tab.Label, err)
		}
	}
	tab.staged = true
	cols := tab.columnList()
	encs := append(append([]encCol(nil), tab.cols...),
		encCol{name: "godwit_op", kind: record.KindString}, encCol{name: "godwit_unchanged", kind: record.KindString})
	st := &record.Table{Schema: tab.db, Name: fmt.Sprintf("godwit_stage_%d", tab.index)}
	if err := a.c.load(ctx, a.tx, tab.db, st, encs, s.Rows); err != nil {
		var re *RowError
		if errors.As(err, &re) {
			re.Row = -1 // a row of the staging table, not of the caller's
		}
		return fmt.Errorf("applying changes to %s: %w", tab.Label, err)
	}

	match := make([]string, len(tab.KeyIdx))
	fullMatch := make([]string, len(tab.KeyIdx))
	for i, k := range tab.KeyIdx {
		q := quoteIdent(tab.cols[k].name)
		match[i] = "t." + q + " = s." + q
		fullMatch[i] = tab.name + "." + q + " = s." + q
	}
	on := strings.Join(match, " AND ")
	var stmts []string
	if s.Dels > 0 || !tab.upsert && s.Whole > 0 {
		ops := "'D'"
		if !tab.upsert {
			ops += ", 'U'"
		}
		// The table deleted from is not aliased: without a default
		// database, MariaDB cannot resolve an alias there.
		stmts = append(stmts, "DELETE "+tab.name+" FROM "+tab.name+" JOIN "+stage+" AS s ON "+strings.Join(fullMatch, " AND ")+
			" WHERE s."+applyStageOp+" IN ("+ops+")")
	}
	if s.Whole > 0 {
		sql := "INSERT INTO " + tab.name + " (" + cols + ") SELECT " + cols + " FROM " + stage + " WHERE " + applyStageOp + " = 'U'"
		if tab.upsert {
			sql += tab.upsertAction()
		}
		stmts = append(stmts, sql)
	}
	if s.Partial > 0 {
		var sets []string
		for i, c := range tab.cols {
			if tab.IsKey[i] {
				continue
			}
			q := quoteIdent(c.name)
			sets = append(sets, fmt.Sprintf("t.%s = IF(SUBSTRING(s.%s, %d, 1) = 'u', t.%s, s.%s)", q, applyStageUnchanged, i+1, q, q))
		}
		if len(sets) > 0 {
			stmts = append(stmts, "UPDATE "+tab.name+" AS t JOIN "+stage+" AS s ON "+on+" SET "+strings.Join(sets, ", ")+" WHERE s."+applyStageOp+" = 'P'")
		}
	}
	for _, stmt := range stmts {
		if _, err := a.tx.ExecContext(ctx, stmt); err != nil {
			return myApplyError(ctx, tab.Label, err)
		}
	}
	return nil
}
