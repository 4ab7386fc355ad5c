package validate

import "github.com/godwit-dms/godwit/internal/connector/postgres"

// PostgreSQL snapshots settle identical partitions by checksum.
var _ PartitionChecksummer = (*postgres.Snapshot)(nil)
