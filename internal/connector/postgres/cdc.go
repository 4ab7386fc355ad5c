package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
)

// decodingPlugin maps a DMS PluginName to the server's plugin name; empty
// for no-preference.
func decodingPlugin(name string) string {
	switch name {
	case PluginTestDecoding:
		return "test_decoding"
	case PluginPglogical:
		return "pglogical_output"
	case PluginPgoutput:
		return "pgoutput"
	}
	return ""
}

// cdcWarnings reports unmet CDC prerequisites of a source: wal_level,
// free replication slots and WAL senders, the configured slot and plugin.
// They are warnings, not failures: full load works without them.
func cdcWarnings(ctx context.Context, pg *pgx.Conn, cfg Config) ([]string, error) {
	var (
		walLevel                    string
		maxSlots, usedSlots         int
		maxSenders, usedSenders     int
		pglogicalInstalled, hasSlot bool
	)
	err := pg.QueryRow(ctx, `
SELECT current_setting('wal_level'),
	current_setting('max_replication_slots')::int,
	(SELECT count(*) FROM pg_catalog.pg_replication_slots)::int,
	current_setting('max_wal_senders')::int,
	(SELECT count(*) FROM pg_catalog.pg_stat_replication)::int,
	EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pglogical'),
	EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)`, cfg.SlotName).
		Scan(&walLevel, &maxSlots, &usedSlots, &maxSenders, &usedSenders, &pglogicalInstalled, &hasSlot)
	if err != nil {
		return nil, queryError(ctx, connector.StageCDC, "checking the CDC settings", err)
	}
	var w []string
	if walLevel != "logical" {
		w = append(w, fmt.Sprintf("wal_level is %q but CDC needs logical decoding: set wal_level = logical (on Amazon RDS: rds.logical_replication = 1) and restart the server", walLevel))
	}
	switch {
	case cfg.SlotName != "" && hasSlot:
		// The task uses the existing slot; it needs no free one.
	case maxSlots == 0:
		w = append(w, "max_replication_slots is 0: CDC needs a replication slot; raise max_replication_slots and restart the server")
	case usedSlots >= maxSlots:
		w = append(w, fmt.Sprintf("all %d replication slots are in use (max_replication_slots = %d): CDC needs a free slot; drop unused slots or raise max_replication_slots", usedSlots, maxSlots))
	}
	switch {
	case maxSenders == 0:
		w = append(w, "max_wal_senders is 0: CDC streams changes through a WAL sender; raise max_wal_senders and restart the server")
	case usedSenders >= maxSenders:
		w = append(w, fmt.Sprintf("all %d WAL senders are in use (max_wal_senders = %d): CDC needs a free one; raise max_wal_senders", usedSenders, maxSenders))
	}
	if cfg.PluginName == PluginPglogical && !pglogicalInstalled {
		w = append(w, fmt.Sprintf("PluginName is pglogical but the pglogical extension is not installed in database %q: add pglogical to shared_preload_libraries and run CREATE EXTENSION pglogical", cfg.Database))
	}
	if cfg.SlotName != "" {
		sw, err := slotWarnings(ctx, pg, cfg)
		if err != nil {
			return nil, err
		}
		w = append(w, sw...)
	}
	return w, nil
}

// slotWarnings checks the replication slot named by SlotName.
func slotWarnings(ctx context.Context, pg *pgx.Conn, cfg Config) ([]string, error) {
	var (
		slotType string
		database *string
		plugin   *string
		active   bool
	)
	err := pg.QueryRow(ctx, `
SELECT slot_type, database, plugin, active
FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, cfg.SlotName).Scan(&slotType, &database, &plugin, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return []string{fmt.Sprintf("replication slot %q (SlotName) does not exist: create it with SELECT pg_create_logical_replication_slot('%s', 'pgoutput'), or remove SlotName so the task creates its own",
			cfg.SlotName, cfg.SlotName)}, nil
	}
	if err != nil {
		return nil, queryError(ctx, connector.StageCDC, "checking the replication slot", err)
	}
	var w []string
	switch {
	case slotType != "logical":
		w = append(w, fmt.Sprintf("replication slot %q (SlotName) is a %s slot: CDC needs a logical slot", cfg.SlotName, slotType))
	case database != nil && *database != cfg.Database:
		w = append(w, fmt.Sprintf("replication slot %q (SlotName) belongs to database %q, not %q", cfg.SlotName, *database, cfg.Database))
	}
	if want := decodingPlugin(cfg.PluginName); want != "" && plugin != nil && *plugin != want {
		w = append(w, fmt.Sprintf("replication slot %q (SlotName) uses plugin %q but PluginName asks for %q", cfg.SlotName, *plugin, cfg.PluginName))
	}
	if active {
		w = append(w, fmt.Sprintf("replication slot %q (SlotName) is in use by another connection: a task cannot stream from it at the same time", cfg.SlotName))
	}
	return w, nil
}
