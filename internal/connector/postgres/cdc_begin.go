package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// Change capture (CDC) runs on logical replication with the pgoutput
// plugin:
//
//   - BeginCDC creates the publication of the task's tables, then the
//     logical replication slot on a replication connection, exporting the
//     snapshot the slot starts from; the full load reads in that snapshot
//     and the stream starts at the slot's consistent point, so every change
//     is either in the snapshot or streamed, never both.
//   - Stream (cdc_stream.go) runs START_REPLICATION and turns pgoutput
//     messages into record.Transactions (cdc_decode.go).
//   - Confirm reports what the engine has applied; only that is reported to
//     the server as flushed, so the slot keeps everything after it.
//   - EndCDC drops the slot and the publication.

var (
	// ErrSlotExists: BeginCDC was asked for a snapshot but the replication
	// slot already exists; its snapshot is gone, so the slot must be dropped
	// (EndCDC) for a fresh start.
	ErrSlotExists = errors.New("replication slot already exists")
	// ErrNoSlot: the replication slot a stream or Confirm needs does not exist.
	ErrNoSlot = errors.New("replication slot does not exist")
	// ErrBadCDCRequest: the slot or publication name, plugin or position is unusable.
	ErrBadCDCRequest = errors.New("invalid change capture request")
	// ErrReplicationProtocol: the server sent a replication message the
	// connector cannot read.
	ErrReplicationProtocol = errors.New("unexpected logical replication message")
)

const (
	cdcStateObjectInUse     = "55006" // a slot held by another walsender
	cdcStateDuplicateObject = "42710" // CREATE_REPLICATION_SLOT of an existing slot
)

// cdcValidSlot accepts what PostgreSQL accepts as a slot name: lower-case
// letters, digits and underscores, at most 63 of them. Replication commands
// take the name unquoted, so nothing else may pass.
func cdcValidSlot(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkCDCRequest validates what every CDC call needs.
func checkCDCRequest(req *connector.CDCRequest) error {
	switch {
	case req == nil:
		return fmt.Errorf("%w: no request", ErrBadCDCRequest)
	case !cdcValidSlot(req.SlotName):
		return fmt.Errorf("%w: %q is not a replication slot name (lower-case letters, digits and _, at most 63)", ErrBadCDCRequest, req.SlotName)
	case req.Publication == "" || len(req.Publication) > 63 || strings.ContainsRune(req.Publication, 0):
		return fmt.Errorf("%w: %q is not a publication name", ErrBadCDCRequest, req.Publication)
	case req.Plugin != "" && req.Plugin != PluginPgoutput && req.Plugin != PluginNoPreference:
		return fmt.Errorf("%w: plugin %q: this connector streams with pgoutput only", ErrBadCDCRequest, req.Plugin)
	}
	return nil
}

// cdcParseLSN reads an LSN position ("0/16B3748"); "" is 0, which
// START_REPLICATION reads as the slot's confirmed position.
func cdcParseLSN(s string) (pglogrepl.LSN, error) {
	if s == "" {
		return 0, nil
	}
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("%w: position %q is not a PostgreSQL LSN like 0/16B3748", ErrBadCDCRequest, s)
	}
	var v [2]uint64
	for i, part := range [2]string{hi, lo} {
		for j := 0; j < len(part); j++ {
			c := part[j]
			var d byte
			switch {
			case c >= '0' && c <= '9':
				d = c - '0'
			case c >= 'A' && c <= 'F':
				d = c - 'A' + 10
			case c >= 'a' && c <= 'f':
				d = c - 'a' + 10
			default:
				return 0, fmt.Errorf("%w: position %q is not a PostgreSQL LSN like 0/16B3748", ErrBadCDCRequest, s)
			}
			v[i] = v[i]<<4 | uint64(d)
		}
	}
	return pglogrepl.LSN(v[0]<<32 | v[1]), nil
}

// ComparePositions orders two LSNs.
func (c *Conn) ComparePositions(a, b string) (int, error) {
	x, err := cdcParseLSN(a)
	if err != nil {
		return 0, err
	}
	y, err := cdcParseLSN(b)
	if err != nil {
		return 0, err
	}
	switch {
	case x < y:
		return -1, nil
	case x > y:
		return 1, nil
	}
	return 0, nil
}

// CurrentPosition is the server's current WAL insert position: every
// transaction committed before the call ends at or before it. (The write
// position, pg_current_wal_lsn, may still be behind a commit made with
// synchronous_commit off.)
func (c *Conn) CurrentPosition(ctx context.Context) (string, error) {
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return "", err
	}
	defer c.data.release(pg)
	var s string
	if err := pg.QueryRow(ctx, "SELECT pg_catalog.pg_current_wal_insert_lsn()::text").Scan(&s); err != nil {
		return "", classify(ctx, pg, "reading the current WAL position", err)
	}
	lsn, err := cdcParseLSN(s)
	if err != nil {
		return "", err
	}
	return lsn.String(), nil
}

// BeginCDC makes sure the publication covers req.Tables, then creates the
// replication slot. Unless req.NoSnapshot, the slot's snapshot is opened
// for the full load (OpenSnapshotAt) before the replication connection that
// exported it moves on; the position returned is the slot's consistent
// point, where the changes the snapshot does not see begin.
//
// When the slot exists already (a resumed task), BeginCDC returns no
// snapshot and the slot's confirmed position if req.NoSnapshot, else an
// error wrapping ErrSlotExists.
//
// The publication publishes inserts, updates, deletes and truncates, so
// PostgreSQL refuses UPDATE and DELETE on a table of it without a replica
// identity (no primary key and not REPLICA IDENTITY FULL or USING INDEX);
// BeginCDC does not change replica identities (see Stream for what Before
// holds under each).
func (c *Conn) BeginCDC(ctx context.Context, req *connector.CDCRequest) (connector.Snapshot, string, error) {
	if err := checkCDCRequest(req); err != nil {
		return nil, "", err
	}
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return nil, "", err
	}
	tables := req.Tables
	if req.DDLSchema != "" {
		if audit, err := cdcEnsureDDLCapture(ctx, pg, req.DDLSchema); err != nil {
			slog.WarnContext(ctx, "postgres cdc: DROP TABLE on the source will not be captured", "err", err)
		} else {
			tables = append(tables[:len(tables):len(tables)], audit)
		}
	}
	err = cdcEnsurePublication(ctx, pg, req.Publication, tables)
	if err != nil {
		c.data.release(pg)
		return nil, "", err
	}
	slot, err := cdcLookupSlot(ctx, pg, req.SlotName)
	c.data.release(pg)
	if err != nil {
		return nil, "", err
	}
	c.cdc.use(req.SlotName)
	if slot != nil {
		return cdcExistingSlot(req, slot)
	}

	rc, err := cdcOpenReplication(ctx, c)
	if err != nil {
		return nil, "", err
	}
	defer cdcCloseReplication(rc)
	action := "EXPORT_SNAPSHOT"
	if req.NoSnapshot {
		action = "NOEXPORT_SNAPSHOT"
	}
	res, err := pglogrepl.CreateReplicationSlot(ctx, rc, req.SlotName, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: action})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == cdcStateDuplicateObject {
			// Created by someone else since cdcLookupSlot.
			return nil, "", fmt.Errorf("%w: %q", ErrSlotExists, req.SlotName)
		}
		return nil, "", cdcError(ctx, rc, "creating replication slot "+req.SlotName, err)
	}
	pos, err := cdcParseLSN(res.ConsistentPoint)
	if err != nil {
		return nil, "", fmt.Errorf("%w: consistent point %q", ErrReplicationProtocol, res.ConsistentPoint)
	}
	if req.NoSnapshot {
		return nil, pos.String(), nil
	}
	// The exported snapshot lives until the replication connection runs
	// its next command; OpenSnapshotAt imports and exports it again.
	snap, err := c.OpenSnapshotAt(ctx, res.SnapshotName, req.Sessions)
	if err != nil {
		// Without its snapshot the slot is of no use: drop it, so that a
		// retry starts clean.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		derr := pglogrepl.DropReplicationSlot(dctx, rc, req.SlotName, pglogrepl.DropReplicationSlotOptions{})
		cancel()
		if derr != nil {
			return nil, "", errors.Join(fmt.Errorf("opening the snapshot of replication slot %s: %w", req.SlotName, err),
				fmt.Errorf("dropping the slot: %w", derr))
		}
		return nil, "", fmt.Errorf("opening the snapshot of replication slot %s: %w", req.SlotName, err)
	}
	return snap, pos.String(), nil
}

// cdcSlot is a row of pg_replication_slots.
type cdcSlot struct {
	plugin    string
	database  string
	confirmed pglogrepl.LSN
	activePID *int32
	sameDB    bool
}

// where says whose slot it is.
func (s *cdcSlot) where() string {
	if s.database == "" {
		return "it is a physical slot"
	}
	return "it belongs to database " + quoteIdent(s.database)
}

// cdcLookupSlot reads the slot named name; nil when there is none.
func cdcLookupSlot(ctx context.Context, pg *pgx.Conn, name string) (*cdcSlot, error) {
	var s cdcSlot
	var plugin, database, confirmed *string
	err := pg.QueryRow(ctx, `
SELECT plugin, database, confirmed_flush_lsn::text, active_pid, coalesce(database = current_database(), false)
FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, name).
		Scan(&plugin, &database, &confirmed, &s.activePID, &s.sameDB)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(ctx, pg, "reading replication slot "+name, err)
	}
	if plugin != nil {
		s.plugin = *plugin
	}
	if database != nil {
		s.database = *database
	}
	if confirmed != nil {
		if s.confirmed, err = cdcParseLSN(*confirmed); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// cdcExistingSlot answers BeginCDC for a slot that exists.
func cdcExistingSlot(req *connector.CDCRequest, s *cdcSlot) (connector.Snapshot, string, error) {
	switch {
	case !s.sameDB:
		return nil, "", fmt.Errorf("%w: replication slot %q is not a logical slot of this endpoint's database (%s)", ErrBadCDCRequest, req.SlotName, s.where())
	case s.plugin != "pgoutput":
		return nil, "", fmt.Errorf("%w: replication slot %q uses plugin %q; this connector needs a pgoutput slot", ErrBadCDCRequest, req.SlotName, s.plugin)
	case !req.NoSnapshot:
		return nil, "", fmt.Errorf("%w: %q: its starting snapshot is gone, so a full load cannot be made consistent with it; drop the slot (EndCDC) for a fresh start",
			ErrSlotExists, req.SlotName)
	}
	return nil, s.confirmed.String(), nil
}

// cdcPublication is a row of pg_publication, read as JSON so that columns
// older servers lack keep their defaults.
type cdcPublication struct {
	All      bool `json:"puballtables"`
	Insert   bool `json:"pubinsert"`
	Update   bool `json:"pubupdate"`
	Delete   bool `json:"pubdelete"`
	Truncate bool `json:"pubtruncate"`
	ViaRoot  bool `json:"pubviaroot"`
}

// cdcEnsurePublication creates the publication of tables, or makes an existing
// one publish every operation of at least those tables. Changes of a
// partitioned table are published as the partitioned table's
// (publish_via_partition_root, PostgreSQL 13+).
func cdcEnsurePublication(ctx context.Context, pg *pgx.Conn, name string, tables []*record.Table) error {
	var version int
	if err := pg.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return classify(ctx, pg, "reading the server version", err)
	}
	with := "publish = 'insert, update, delete, truncate'"
	if version >= 130000 {
		with += ", publish_via_partition_root = true"
	}
	list := make([]string, len(tables))
	for i, t := range tables {
		list[i] = quoteTable(t.Schema, t.Name)
	}
	doing := "creating publication " + quoteIdent(name)
	var raw []byte
	err := pg.QueryRow(ctx, "SELECT to_jsonb(p) FROM pg_catalog.pg_publication p WHERE pubname = $1", name).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		q := "CREATE PUBLICATION " + quoteIdent(name)
		if len(list) > 0 {
			q += " FOR TABLE " + strings.Join(list, ", ")
		}
		_, err = pg.Exec(ctx, q+" WITH ("+with+")")
		return classify(ctx, pg, doing, err)
	}
	if err != nil {
		return classify(ctx, pg, "reading publication "+quoteIdent(name), err)
	}
	var p cdcPublication
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("reading publication %s: %w", quoteIdent(name), err)
	}
	doing = "altering publication " + quoteIdent(name)
	if !p.Insert || !p.Update || !p.Delete || !p.Truncate || version >= 130000 && !p.ViaRoot {
		if _, err := pg.Exec(ctx, "ALTER PUBLICATION "+quoteIdent(name)+" SET ("+with+")"); err != nil {
			return classify(ctx, pg, doing, err)
		}
	}
	if p.All || len(tables) == 0 {
		return nil
	}
	rows, err := pg.Query(ctx, `
SELECT n.nspname, c.relname
FROM pg_catalog.pg_publication_rel pr
	JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
	JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE p.pubname = $1`, name)
	if err != nil {
		return classify(ctx, pg, "reading the tables of publication "+quoteIdent(name), err)
	}
	have := map[[2]string]bool{}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return classify(ctx, pg, "reading the tables of publication "+quoteIdent(name), err)
		}
		have[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return classify(ctx, pg, "reading the tables of publication "+quoteIdent(name), err)
	}
	for _, t := range tables {
		if !have[[2]string{t.Schema, t.Name}] {
			_, err := pg.Exec(ctx, "ALTER PUBLICATION "+quoteIdent(name)+" SET TABLE "+strings.Join(list, ", "))
			return classify(ctx, pg, doing, err)
		}
	}
	return nil
}

// EndCDC drops the replication slot (ending the walsender that streams from
// it, if any) and the publication. What does not exist is skipped, so it
// can run before a fresh start. A slot of another database is refused.
func (c *Conn) EndCDC(ctx context.Context, req *connector.CDCRequest) error {
	if err := checkCDCRequest(req); err != nil {
		return err
	}
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	if err := cdcDropSlot(ctx, pg, req.SlotName); err != nil {
		return err
	}
	if _, err := pg.Exec(ctx, "DROP PUBLICATION IF EXISTS "+quoteIdent(req.Publication)); err != nil {
		return classify(ctx, pg, "dropping publication "+quoteIdent(req.Publication), err)
	}
	c.cdc.forget(req.SlotName)
	return nil
}

// cdcDropSlot terminates the walsender holding the slot, if any, and drops it.
func cdcDropSlot(ctx context.Context, pg *pgx.Conn, name string) error {
	doing := "dropping replication slot " + name
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := cdcLookupSlot(ctx, pg, name)
		if err != nil || s == nil {
			return err
		}
		if !s.sameDB {
			return fmt.Errorf("%w: replication slot %q is not a logical slot of this endpoint's database (%s): not dropping it", ErrBadCDCRequest, name, s.where())
		}
		if s.activePID != nil {
			if _, err := pg.Exec(ctx, "SELECT pg_catalog.pg_terminate_backend($1)", *s.activePID); err != nil {
				return classify(ctx, pg, doing, err)
			}
		} else {
			_, err := pg.Exec(ctx, "SELECT pg_catalog.pg_drop_replication_slot($1)", name)
			var pgErr *pgconn.PgError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &pgErr) && pgErr.Code == sqlstateUndefinedObject:
				return nil
			case !errors.As(err, &pgErr) || pgErr.Code != cdcStateObjectInUse:
				return classify(ctx, pg, doing, err)
			}
		}
		// The walsender takes a moment to let the slot go.
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: the slot is still in use by process %v", doing, s.activePID)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", doing, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cdcOpenReplication opens a logical replication connection
// (replication=database) with the data sessions' settings, so that values
// are sent in the text forms the decoder reads (ISO dates in UTC, hex
// bytea, shortest exact floats, UTF-8) and money as lc_monetary C
// writes it.
func cdcOpenReplication(ctx context.Context, c *Conn) (*pgconn.PgConn, error) {
	cc, err := connConfig(c.cfg, c.dialer, c.cfg.SSLMode)
	if err != nil {
		return nil, err
	}
	for k, v := range sessionParams {
		cc.RuntimeParams[k] = v
	}
	cc.RuntimeParams["lc_monetary"] = "C"
	cc.RuntimeParams["replication"] = "database"
	cc.BuildFrontend = cdcFrontend
	cc.AfterConnect = nil // the AfterConnectScript is for SQL sessions
	pc, err := pgconn.ConnectConfig(ctx, &cc.Config)
	if err != nil {
		err = classifyConnectError(ctx, c.cfg, err)
		var ce *connector.CheckError
		if errors.As(err, &ce) && ctx.Err() == nil {
			switch ce.Stage {
			case connector.StageDNS, connector.StageTCP, connector.StageTLS, connector.StageDatabase:
				return nil, fmt.Errorf("%w: %w", ErrConnectionLost, err)
			}
		}
		return nil, err
	}
	return pc, nil
}

// cdcCloseReplication ends a replication connection whose context may be done.
func cdcCloseReplication(pc *pgconn.PgConn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = pc.Close(ctx)
}

// cdcError wraps a failure on a replication connection like
// classify does for data sessions.
func cdcError(ctx context.Context, pc *pgconn.PgConn, doing string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%s: %w (%w)", doing, ctx.Err(), err)
	case errors.Is(err, ErrConnectionLost):
		return fmt.Errorf("%s: %w", doing, err)
	case isConnectionLoss(ctx, nil, err), pc.IsClosed() && !cdcServerError(err):
		return fmt.Errorf("%s: %w: %w", doing, ErrConnectionLost, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

func cdcServerError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr)
}
