package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/engine/cdc"
)

// cdcStartFrom is where a cdc task's change processing first starts: its
// CdcStartPosition (a native position, or a date, which DMS also takes
// there), the position of its CdcStartTime, or "" for now. A time needs a
// source that can find its position (connector.PositionFinder: MySQL and
// MariaDB); like DMS, PostgreSQL cannot map a time to an LSN.
func cdcStartFrom(ctx context.Context, streamer connector.ChangeStreamer, t *dms.ReplicationTask, src *dms.Endpoint) (string, error) {
	at := t.CdcStartTime
	if at.IsZero() && t.CdcStartPosition != "" {
		tm, ok := cdc.ParseTime(t.CdcStartPosition)
		if !ok {
			return strings.TrimPrefix(t.CdcStartPosition, "checkpoint:"), nil
		}
		at = tm
	}
	if at.IsZero() {
		return "", nil
	}
	finder, ok := streamer.(connector.PositionFinder)
	switch {
	case !ok && (src.Engine == "postgres" || src.Engine == "aurora-postgresql"):
		return "", errors.New("A CDC start time is not supported with a PostgreSQL source (as in AWS DMS: PostgreSQL cannot map a time to an LSN): give CdcStartPosition as an LSN, or neither to start from now.")
	case !ok:
		return "", fmt.Errorf("A CDC start time is not supported with %s sources: give CdcStartPosition, or neither to start from now.", catalog.DisplayName(src.Engine))
	}
	pos, err := finder.PositionAtTime(ctx, at)
	if err != nil {
		return "", fmt.Errorf("Could not find the source position of CDC start time %s on source endpoint %s: %w", at.UTC().Format(time.RFC3339), src.Identifier, err)
	}
	return pos, nil
}
