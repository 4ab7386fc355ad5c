package mysql

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// CDC reads the binary log as a replica does (COM_BINLOG_DUMP on a
// connection of its own, row events only):
//
//   - Positions are "file:offset" ("mysql-bin.000003:1234"), never GTID
//     sets: the transactions carry their GTID as ID.
//   - BeginCDC returns the package's consistent snapshot and the binary log
//     position read under the same lock (snapshot.go).
//   - A Transaction's Position is the offset after its commit event (XID,
//     or COMMIT for non-transactional tables): resuming there delivers the
//     next transaction.
//   - Confirm and EndCDC do nothing: the server keeps its binary logs for
//     binlog_expire_logs_seconds / expire_logs_days whatever replicas read,
//     and the engine persists the position. A task stopped longer than the
//     retention cannot resume (the server answers error 1236).
var _ connector.ChangeStreamer = (*Conn)(nil)

// ErrCDCNotConfigured: the server's binary log settings do not allow CDC.
var ErrCDCNotConfigured = errors.New("the MySQL server is not configured for CDC")

// Timings of the binary log connection (variables for tests).
var (
	// binlogHeartbeatPeriod is how often an idle server sends a heartbeat; a
	// connection silent for three periods (and a little) is lost.
	binlogHeartbeatPeriod = 10 * time.Second
	// cdcPositionAdvanceEvery: when the captured tables are idle but others
	// are not, an empty transaction carries the position forward this
	// often, so the engine's checkpoint does not fall behind the binary
	// logs the server keeps.
	cdcPositionAdvanceEvery = 10 * time.Second
)

// binlogWriteTimeoutSeconds is how long the server waits for us to take
// events while the engine applies (net_write_timeout of the dump session).
const binlogWriteTimeoutSeconds = 3600

// BeginCDC checks the binary log settings (log_bin ON, binlog_format ROW,
// binlog_row_image FULL, no compressed events), then opens the consistent
// snapshot of req.Sessions sessions and returns it with its binary log
// position. With req.NoSnapshot it returns the current position only.
func (c *Conn) BeginCDC(ctx context.Context, req *connector.CDCRequest) (connector.Snapshot, string, error) {
	if err := c.checkBinlogSettings(ctx); err != nil {
		return nil, "", err
	}
	if req.NoSnapshot {
		pos, err := c.CurrentPosition(ctx)
		return nil, pos, err
	}
	snap, err := c.openSnapshot(ctx, req.Sessions)
	if err != nil {
		return nil, "", err
	}
	file, pos, _ := snap.BinlogPosition()
	if file == "" {
		snap.Close()
		return nil, "", fmt.Errorf("%w: the snapshot has no binary log position: the user needs REPLICATION CLIENT (MySQL) or BINLOG MONITOR (MariaDB) to read it",
			ErrMissingPrivileges)
	}
	return snap, binlogPos{file: file, pos: pos}.String(), nil
}

// checkBinlogSettings fails with ErrCDCNotConfigured, naming each variable
// and its fix, when the server's binary log cannot feed CDC.
func (c *Conn) checkBinlogSettings(ctx context.Context) error {
	db, err := c.dataDB()
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, `SHOW GLOBAL VARIABLES WHERE Variable_name IN
		('log_bin', 'binlog_format', 'binlog_row_image', 'server_id', 'log_bin_compress',
		'binlog_transaction_compression', 'binlog_row_value_options')`)
	if err != nil {
		return classify(ctx, "reading the binary log settings", err, 0)
	}
	defer rows.Close()
	vars := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return classify(ctx, "reading the binary log settings", err, 0)
		}
		vars[strings.ToLower(name)] = value
	}
	if err := rows.Err(); err != nil {
		return classify(ctx, "reading the binary log settings", err, 0)
	}
	var problems []string
	if v := vars["log_bin"]; !isOn(v) {
		problems = append(problems, "binary logging is off (log_bin = OFF) but CDC reads the binary log: start the server with log_bin (on Amazon RDS: enable automated backups)")
	}
	if v := vars["binlog_format"]; !strings.EqualFold(v, "ROW") {
		problems = append(problems, fmt.Sprintf("binlog_format is %s but CDC needs ROW: set binlog_format = ROW in the server configuration (SET GLOBAL binlog_format = 'ROW' applies to new sessions until a restart)", v))
	}
	if v := vars["binlog_row_image"]; !strings.EqualFold(v, "FULL") {
		problems = append(problems, fmt.Sprintf("binlog_row_image is %s but CDC needs FULL: set binlog_row_image = FULL in the server configuration (SET GLOBAL binlog_row_image = 'FULL' applies to new sessions until a restart)", v))
	}
	if v, ok := vars["server_id"]; ok && v == "0" {
		problems = append(problems, "server_id is 0: a server whose binary log is read by a replica needs a non-zero server_id")
	}
	if v, ok := vars["log_bin_compress"]; ok && isOn(v) {
		problems = append(problems, "log_bin_compress is ON: CDC cannot read compressed binary log events; SET GLOBAL log_bin_compress = OFF")
	}
	if v, ok := vars["binlog_transaction_compression"]; ok && isOn(v) {
		problems = append(problems, "binlog_transaction_compression is ON: CDC cannot read compressed transactions; SET GLOBAL binlog_transaction_compression = OFF")
	}
	if v, ok := vars["binlog_row_value_options"]; ok && strings.Contains(strings.ToUpper(v), "PARTIAL_JSON") {
		problems = append(problems, "binlog_row_value_options is PARTIAL_JSON: CDC needs whole JSON values; SET GLOBAL binlog_row_value_options = ''")
	}
	if len(problems) > 0 {
		return &connector.CheckError{Stage: connector.StageCDC, Message: strings.Join(problems, "; "), Err: ErrCDCNotConfigured}
	}
	return nil
}

// CurrentPosition is the end of the server's binary log (SHOW MASTER
// STATUS, SHOW BINARY LOG STATUS on MySQL 8.4+).
func (c *Conn) CurrentPosition(ctx context.Context) (string, error) {
	db, err := c.dataDB()
	if err != nil {
		return "", err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", classify(ctx, "reading the binary log position", err, 0)
	}
	defer conn.Close()
	s := &Snapshot{}
	if err := s.masterStatus(ctx, &snapSession{conn: conn}); err != nil {
		if errIsMySQL(err, erSpecificAccessDenied) {
			return "", fmt.Errorf("%w: reading the binary log position needs REPLICATION CLIENT (MySQL) or BINLOG MONITOR (MariaDB): %w",
				ErrMissingPrivileges, err)
		}
		return "", err
	}
	if s.file == "" {
		return "", &connector.CheckError{Stage: connector.StageCDC, Err: ErrCDCNotConfigured,
			Message: "the server has no binary log position (log_bin is off): CDC reads the binary log"}
	}
	return binlogPos{file: s.file, pos: s.pos}.String(), nil
}

// Confirm does nothing: a MySQL server does not track what its replicas
// have read (binary logs expire by age), and the engine persists pos.
func (c *Conn) Confirm(ctx context.Context, pos string) error {
	_, err := parseBinlogPos(pos)
	return err
}

// EndCDC does nothing: BeginCDC creates nothing on the server.
func (c *Conn) EndCDC(ctx context.Context, req *connector.CDCRequest) error { return nil }

// Stream reads the binary log from position from and hands fn each
// committed transaction with changes of req.Tables, in commit order. It
// returns ctx's error when ctx ends, fn's error when fn fails, and an
// error wrapping ErrConnectionLost when the connection breaks.
func (c *Conn) Stream(ctx context.Context, req *connector.CDCRequest, from string, fn func(tx *record.Transaction) error) error {
	start, err := parseBinlogPos(from)
	if err != nil {
		return err
	}
	s := &binlogStream{
		fn:      fn,
		tables:  map[tableKey]*record.Table{},
		schemas: map[string]bool{},
		byID:    map[uint64]*cdcTable{},
		file:    start.file,
		pos:     start.pos,
		last:    time.Now(),
	}
	for _, t := range req.Tables {
		s.tables[tableKey{t.Schema, t.Name}] = t
		s.schemas[t.Schema] = true
	}
	if s.convs, err = c.columnCharsets(ctx, req.Tables); err != nil {
		return err
	}
	s.reload = c.reloadTable
	w, stop, err := c.openBinlog(ctx, start)
	if err != nil {
		return err
	}
	defer w.close()
	defer stop()
	slog.DebugContext(ctx, "mysql cdc: streaming the binary log", "endpoint", c.cfg, "from", from, "tables", len(req.Tables))
	err = s.run(ctx, w)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// openBinlog connects, prepares the session as a replica's and asks for
// the binary log from start. The connection closes when ctx ends, until
// stop is called.
func (c *Conn) openBinlog(ctx context.Context, start binlogPos) (w *wireConn, stop func() bool, err error) {
	w, err = dialWire(ctx, c.cfg, c.dialer)
	if err != nil {
		return nil, nil, binlogConnectError(ctx, c.cfg, err)
	}
	stop = context.AfterFunc(ctx, func() { w.close() })
	w.timeout = 3*binlogHeartbeatPeriod + 5*time.Second
	fail := func(doing string, err error) (*wireConn, func() bool, error) {
		stop()
		w.close()
		return nil, nil, binlogStreamError(ctx, start, doing, err)
	}
	serverID := uint32(100000 + rand.N(4000000000-100000))
	var u [16]byte
	_, _ = crand.Read(u[:])
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	replicaUUID := string(mariaUUIDText(u[:]))
	for _, q := range []string{
		// Say we understand checksums (events then carry the server's).
		"SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum",
		// MariaDB: send GTID events rather than their pre-GTID stand-ins.
		"SET @mariadb_slave_capability = 4",
		fmt.Sprintf("SET @master_heartbeat_period = %d, @source_heartbeat_period = %d", binlogHeartbeatPeriod.Nanoseconds(), binlogHeartbeatPeriod.Nanoseconds()),
		fmt.Sprintf("SET @slave_uuid = '%s', @replica_uuid = '%s'", replicaUUID, replicaUUID),
		fmt.Sprintf("SET SESSION net_write_timeout = %d", binlogWriteTimeoutSeconds),
	} {
		if err := w.exec(q); err != nil {
			return fail("preparing the binary log session", err)
		}
	}
	if err := w.binlogDump(start.file, uint32(start.pos), serverID); err != nil {
		return fail("requesting the binary log", err)
	}
	return w, stop, nil
}

// binlogConnectError classifies a failed login of the binary log
// connection: network failures are ErrConnectionLost (worth a retry),
// refusals are not.
func binlogConnectError(ctx context.Context, cfg Config, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("connecting to read the binary log: %w", errors.Join(ctx.Err(), err))
	}
	var ce *connector.CheckError
	if errors.As(err, &ce) && (ce.Stage == connector.StageTCP || ce.Stage == connector.StageDNS) {
		return fmt.Errorf("connecting to read the binary log: %w: %w", ErrConnectionLost, err)
	}
	if me := mysqlError(err); me != nil {
		return fmt.Errorf("connecting to read the binary log: %w", serverConnectError(cfg, me))
	}
	if isConnectionError(err) {
		return fmt.Errorf("connecting to read the binary log: %w: %w", ErrConnectionLost, err)
	}
	return fmt.Errorf("connecting to read the binary log: %w", err)
}

// binlogStreamError classifies an error of the binary log session.
func binlogStreamError(ctx context.Context, at binlogPos, doing string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if me := mysqlError(err); me != nil {
		switch me.Number {
		case erMasterFatalReadingBinlog:
			return fmt.Errorf("%s: the server cannot send the binary log from %s (purged by binlog expiry, or not a binary log position?): %w",
				doing, at, err)
		case erServerShutdown, erConnectionKilled, crServerGone, crServerLost:
			return fmt.Errorf("%s: %w: %w", doing, ErrConnectionLost, err)
		case erSpecificAccessDenied, erAccessDenied:
			return fmt.Errorf("%s: %w: reading the binary log needs REPLICATION SLAVE (MySQL) or REPLICATION SLAVE / BINLOG REPLAY (MariaDB): %w",
				doing, ErrMissingPrivileges, err)
		}
		return fmt.Errorf("%s: %w", doing, err)
	}
	var ne net.Error
	if isConnectionError(err) || errors.As(err, &ne) {
		return fmt.Errorf("%s: %w: %w", doing, ErrConnectionLost, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// erMasterFatalReadingBinlog is ER_MASTER_FATAL_ERROR_READING_BINLOG (1236).
const erMasterFatalReadingBinlog = 1236

// columnCharsets finds the text columns of tables whose character set is
// not UTF-8, and their converters.
func (c *Conn) columnCharsets(ctx context.Context, tables []*record.Table) (map[tableKey]map[string]*charsetConv, error) {
	out := map[tableKey]map[string]*charsetConv{}
	if len(tables) == 0 {
		return out, nil
	}
	schemas := map[string]bool{}
	var args []any
	for _, t := range tables {
		if !schemas[t.Schema] {
			schemas[t.Schema] = true
			args = append(args, t.Schema)
		}
	}
	db, err := c.dataDB()
	if err != nil {
		return nil, err
	}
	q := `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS
		WHERE CHARACTER_SET_NAME IS NOT NULL AND CHARACTER_SET_NAME NOT IN ('utf8mb4', 'utf8mb3', 'utf8', 'ascii', 'binary')
		AND TABLE_SCHEMA IN (?` + strings.Repeat(", ?", len(args)-1) + ")"
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, classify(ctx, "reading the character sets of columns", err, 0)
	}
	defer rows.Close()
	captured := map[tableKey]bool{}
	for _, t := range tables {
		captured[tableKey{t.Schema, t.Name}] = true
	}
	for rows.Next() {
		var k tableKey
		var col string
		var cs sql.NullString
		if err := rows.Scan(&k.db, &k.table, &col, &cs); err != nil {
			return nil, classify(ctx, "reading the character sets of columns", err, 0)
		}
		if !captured[k] {
			continue
		}
		conv, err := newCharsetConv(cs.String)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q of %s: %w", ErrUnsupported, col, tableLabel(k.db, k.table), err)
		}
		if out[k] == nil {
			out[k] = map[string]*charsetConv{}
		}
		out[k][col] = conv
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "reading the character sets of columns", err, 0)
	}
	return out, nil
}

// reloadTable reads the definition of the source table t as it is now
// (from the catalog of its database only).
func (c *Conn) reloadTable(ctx context.Context, t *record.Table) (*record.Table, map[string]*charsetConv, error) {
	all, err := c.tables(ctx, t.Schema)
	if err != nil {
		return nil, nil, err
	}
	for _, nt := range all {
		if nt.Schema == t.Schema && nt.Name == t.Name {
			convs, err := c.columnCharsets(ctx, []*record.Table{nt})
			if err != nil {
				return nil, nil, err
			}
			return nt, convs[tableKey{nt.Schema, nt.Name}], nil
		}
	}
	return nil, nil, fmt.Errorf("table %s no longer exists on the source", t.QualifiedName())
}
