package mysql

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector"
)

// minBinlogRetentionSeconds is the binary log retention DMS recommends for
// CDC: a task stopped for less than this can resume.
const minBinlogRetentionSeconds = 24 * 60 * 60

// cdcWarnings reports unmet binary log prerequisites of a CDC source:
// log_bin on, binlog_format ROW, binlog_row_image FULL, a non-zero
// server_id, and a retention of at least a day. They are warnings, not
// failures: full load works without them.
func cdcWarnings(ctx context.Context, s *session) ([]string, error) {
	rows, err := s.conn.QueryContext(ctx, `SHOW GLOBAL VARIABLES WHERE Variable_name IN
		('log_bin', 'binlog_format', 'binlog_row_image', 'server_id', 'expire_logs_days', 'binlog_expire_logs_seconds')`)
	if err != nil {
		return nil, queryError(ctx, connector.StageCDC, "reading the binary log settings", err)
	}
	defer rows.Close()
	vars := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return nil, queryError(ctx, connector.StageCDC, "reading the binary log settings", err)
		}
		vars[strings.ToLower(name)] = value
	}
	if err := rows.Err(); err != nil {
		return nil, queryError(ctx, connector.StageCDC, "reading the binary log settings", err)
	}

	var w []string
	if v, ok := vars["log_bin"]; ok && !isOn(v) {
		w = append(w, "binary logging is off (log_bin): CDC reads the binary log. Start the server with log_bin enabled (on Amazon RDS: enable automated backups)")
	}
	if v, ok := vars["binlog_format"]; ok && !strings.EqualFold(v, "ROW") {
		w = append(w, fmt.Sprintf("binlog_format is %s but CDC needs ROW: set binlog_format = ROW in the server configuration (SET GLOBAL binlog_format = 'ROW' until restart)", v))
	}
	if v, ok := vars["binlog_row_image"]; ok && !strings.EqualFold(v, "FULL") {
		w = append(w, fmt.Sprintf("binlog_row_image is %s but CDC needs FULL: set binlog_row_image = FULL in the server configuration (SET GLOBAL binlog_row_image = 'FULL' until restart)", v))
	}
	if v, ok := vars["server_id"]; ok && v == "0" {
		w = append(w, "server_id is 0: a server that writes a binary log for CDC needs a non-zero server_id")
	}
	if sec, ok := retentionSeconds(vars); ok && sec > 0 && sec < minBinlogRetentionSeconds {
		w = append(w, fmt.Sprintf("binary logs are kept only %s: keep them at least 24 hours (binlog_expire_logs_seconds / expire_logs_days) so a stopped CDC task can resume",
			strconv.FormatFloat(sec/3600, 'f', -1, 64)+" hours"))
	}
	return w, nil
}

func isOn(v string) bool {
	switch strings.ToUpper(v) {
	case "ON", "1", "YES", "TRUE":
		return true
	}
	return false
}

// retentionSeconds is the binary log retention; 0 means forever.
func retentionSeconds(vars map[string]string) (float64, bool) {
	if v, ok := vars["binlog_expire_logs_seconds"]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
			return n, true
		}
	}
	if v, ok := vars["expire_logs_days"]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return n * 86400, true
		}
	}
	return 0, false
}
