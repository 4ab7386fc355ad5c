package mysql

import (
	"fmt"
	"strconv"
	"strings"
)

// binlogPos is a position in the binary log: a file and a byte offset in
// it. Its string form, the CDC position the engine persists, is
// "file:offset", e.g. "mysql-bin.000003:1234".
type binlogPos struct {
	file string
	pos  uint64
}

func (p binlogPos) String() string { return p.file + ":" + strconv.FormatUint(p.pos, 10) }

// parseBinlogPos reads "file:offset".
func parseBinlogPos(s string) (binlogPos, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || strings.HasPrefix(s, "gtid:") {
		return binlogPos{}, fmt.Errorf("%w: MySQL CDC position %q is not file:offset (e.g. mysql-bin.000003:1234)", ErrUnsupported, s)
	}
	pos, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil || pos > 1<<32-1 {
		return binlogPos{}, fmt.Errorf("%w: MySQL CDC position %q: bad offset", ErrUnsupported, s)
	}
	return binlogPos{file: s[:i], pos: pos}, nil
}

// fileSeq is the sequence number of a binary log file: the digits after
// its last dot ("mysql-bin.000003" → 3).
func fileSeq(file string) (uint64, error) {
	i := strings.LastIndexByte(file, '.')
	n, err := strconv.ParseUint(file[i+1:], 10, 64)
	if i < 0 || err != nil {
		return 0, fmt.Errorf("%w: binary log file name %q has no sequence number", ErrUnsupported, file)
	}
	return n, nil
}

// ComparePositions orders two positions: by the file's sequence number,
// then by offset.
func (c *Conn) ComparePositions(a, b string) (int, error) {
	pa, err := parseBinlogPos(a)
	if err != nil {
		return 0, err
	}
	pb, err := parseBinlogPos(b)
	if err != nil {
		return 0, err
	}
	sa, err := fileSeq(pa.file)
	if err != nil {
		return 0, err
	}
	sb, err := fileSeq(pb.file)
	if err != nil {
		return 0, err
	}
	switch {
	case sa != sb:
		return compareUint(sa, sb), nil
	case pa.pos != pb.pos:
		return compareUint(pa.pos, pb.pos), nil
	}
	return 0, nil
}

func compareUint(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}
