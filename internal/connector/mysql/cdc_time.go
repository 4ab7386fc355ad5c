package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
)

var _ connector.PositionFinder = (*Conn)(nil)

// binaryLog is a row of SHOW BINARY LOGS.
type binaryLog struct {
	name string
	size uint64
}

// PositionAtTime finds the position from which Stream delivers the first
// transaction committed at or after at (a task's CdcStartTime): the file
// is the last binary log that starts before at's second (a binary search
// on the timestamps of the files' first events: the files before it hold
// only earlier transactions), and the position is the end of the last
// transaction in it committed before at. Binary log timestamps
// are whole seconds, so the transactions of at's second are included. A
// time before the oldest binary log the server keeps is an error; a time
// after the last transaction gives the end of the binary log.
func (c *Conn) PositionAtTime(ctx context.Context, at time.Time) (string, error) {
	if err := c.checkBinlogSettings(ctx); err != nil {
		return "", err
	}
	logs, err := c.binaryLogs(ctx)
	if err != nil {
		return "", err
	}
	sec := at.Unix()
	first, err := c.binlogStart(ctx, logs[0].name)
	if err != nil {
		return "", err
	}
	if first > sec {
		return "", fmt.Errorf("%w: the oldest binary log the server keeps (%s) starts at %s, after the CDC start time %s: the changes before it were purged (binlog_expire_logs_seconds / expire_logs_days)",
			ErrUnsupported, logs[0].name, time.Unix(first, 0).UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	lo, hi := 0, len(logs)-1 // logs[lo] is the first, or starts before at
	for lo < hi {
		mid := (lo + hi + 1) / 2
		start, err := c.binlogStart(ctx, logs[mid].name)
		if err != nil {
			return "", err
		}
		if start < sec {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	pos, err := c.scanToTime(ctx, logs[lo], lo == len(logs)-1, sec)
	if err != nil {
		return "", err
	}
	return pos.String(), nil
}

// binaryLogs lists the server's binary logs, oldest first.
func (c *Conn) binaryLogs(ctx context.Context) ([]binaryLog, error) {
	db, err := c.dataDB()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		if errIsMySQL(err, erSpecificAccessDenied) {
			return nil, fmt.Errorf("%w: listing the binary logs needs REPLICATION CLIENT (MySQL) or BINLOG MONITOR (MariaDB): %w", ErrMissingPrivileges, err)
		}
		return nil, classify(ctx, "listing the binary logs", err, 0)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, classify(ctx, "listing the binary logs", err, 0)
	}
	var logs []binaryLog
	for rows.Next() {
		var l binaryLog
		dest := []any{&l.name, &l.size}
		for range cols[min(2, len(cols)):] {
			dest = append(dest, new(sql.RawBytes)) // Encrypted (MySQL 8)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, classify(ctx, "listing the binary logs", err, 0)
		}
		logs = append(logs, l)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "listing the binary logs", err, 0)
	}
	if len(logs) == 0 {
		return nil, &connector.CheckError{Stage: connector.StageCDC, Err: ErrCDCNotConfigured,
			Message: "the server has no binary logs (log_bin is off): CDC reads the binary log"}
	}
	return logs, nil
}

// binlogStart is the timestamp (Unix seconds) of the first event of a
// binary log file: its format description, written when the file began.
func (c *Conn) binlogStart(ctx context.Context, file string) (int64, error) {
	start := binlogPos{file: file, pos: 4}
	w, stop, err := c.openBinlog(ctx, start)
	if err != nil {
		return 0, err
	}
	defer w.close()
	defer stop()
	for {
		ev, err := readEvent(ctx, w, start)
		if err != nil {
			return 0, err
		}
		h, err := parseEventHeader(ev)
		if err != nil {
			return 0, fmt.Errorf("binary log %s: %w", file, err)
		}
		if h.typ == evFormatDescription {
			return int64(h.timestamp), nil
		}
	}
}

// scanToTime reads log from its start to the first transaction committed
// at or after sec (Unix seconds) and returns the position before it: the
// end of the transaction before, or the start of the file. It stops at the
// end of the file (for the last one: its size when listed).
func (c *Conn) scanToTime(ctx context.Context, log binaryLog, last bool, sec int64) (binlogPos, error) {
	boundary := binlogPos{file: log.name, pos: 4}
	w, stop, err := c.openBinlog(ctx, boundary)
	if err != nil {
		return boundary, err
	}
	defer w.close()
	defer stop()
	var fd *formatDescription
	inTx := false
	for {
		ev, err := readEvent(ctx, w, boundary)
		if err != nil {
			return boundary, err
		}
		h, err := parseEventHeader(ev)
		if err != nil {
			return boundary, fmt.Errorf("binary log %s after %d: %w", log.name, boundary.pos, err)
		}
		if ev, err = stripChecksum(fd, h, ev); err != nil {
			return boundary, fmt.Errorf("binary log %s at %d: %w", log.name, h.logPos, err)
		}
		body := ev[eventHeaderLen:]
		artificial := h.logPos == 0 || h.flags&logEventArtificial != 0
		ends := false // the event ends a transaction or is a statement of its own
		switch h.typ {
		case evFormatDescription:
			if fd, err = parseFormatDescription(body); err != nil {
				return boundary, fmt.Errorf("binary log %s: %w", log.name, err)
			}
		case evRotate:
			if !artificial {
				return boundary, nil // the end of the file
			}
		case evHeartbeat, evHeartbeatV2:
			return boundary, nil // nothing more to read
		case evMariaGTID:
			_, flags, err := parseMariaGTID(body, h.serverID)
			if err != nil {
				return boundary, fmt.Errorf("binary log %s at %d: %w", log.name, h.logPos, err)
			}
			inTx = flags&mariaGTIDStandalone == 0
		case evXID, evXAPrepare:
			ends = true
		case evQuery:
			q, err := parseQueryEvent(body, fd.postHeaderLen(evQuery, 13))
			if err != nil {
				return boundary, fmt.Errorf("binary log %s at %d: %w", log.name, h.logPos, err)
			}
			text := strings.ToUpper(skipSQLComments(q.query))
			switch word := sqlFirstWord(text); {
			case word == "BEGIN", word == "XA" && !strings.Contains(text, "COMMIT"):
				inTx = true
			case word == "SAVEPOINT", word == "RELEASE", word == "ROLLBACK" && strings.Contains(text, " TO "):
			default: // COMMIT, ROLLBACK, XA COMMIT, or a statement outside a transaction
				ends = !inTx || word == "COMMIT" || word == "ROLLBACK" || word == "XA"
			}
		}
		if ends {
			inTx = false
			if int64(h.timestamp) >= sec {
				return boundary, nil
			}
			boundary.pos = uint64(h.logPos)
		}
		if last && !artificial && uint64(h.logPos) >= log.size {
			return boundary, nil // the end of the binary log when it was listed
		}
	}
}
