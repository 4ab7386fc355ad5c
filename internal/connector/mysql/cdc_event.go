package mysql

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Binary log event types (MySQL 5.6+ and MariaDB 10+).
const (
	evQuery              = 2
	evStop               = 3
	evRotate             = 4
	evFormatDescription  = 15
	evXID                = 16
	evTableMap           = 19
	evWriteRowsV0        = 20
	evDeleteRowsV0       = 22
	evWriteRowsV1        = 23
	evUpdateRowsV1       = 24
	evDeleteRowsV1       = 25
	evIncident           = 26
	evHeartbeat          = 27
	evWriteRowsV2        = 30
	evUpdateRowsV2       = 31
	evDeleteRowsV2       = 32
	evGTID               = 33
	evAnonymousGTID      = 34
	evXAPrepare          = 38
	evPartialUpdateRows  = 39
	evTransactionPayload = 40
	evHeartbeatV2        = 41
	evGTIDTagged         = 42
	evMariaGTID          = 162
	evMariaQueryCompr    = 165
	evMariaRowsComprLast = 171
)

const (
	eventHeaderLen = 19
	// logEventArtificial marks events the server made up for the stream
	// (the first ROTATE): their log_pos is not a position in the file.
	logEventArtificial = 0x20
	// mariaGTIDStandalone: a GTID event followed by one statement (DDL)
	// instead of a transaction ended by XID or COMMIT.
	mariaGTIDStandalone = 0x01

	checksumOff   = 0
	checksumCRC32 = 1
)

// eventHeader is the common header of every event.
type eventHeader struct {
	timestamp uint32
	typ       byte
	serverID  uint32
	size      uint32
	logPos    uint32 // position of the next event in the file; 0 for artificial events
	flags     uint16
}

func parseEventHeader(b []byte) (eventHeader, error) {
	if len(b) < eventHeaderLen {
		return eventHeader{}, fmt.Errorf("binary log event of %d bytes: shorter than its header", len(b))
	}
	return eventHeader{
		timestamp: binary.LittleEndian.Uint32(b),
		typ:       b[4],
		serverID:  binary.LittleEndian.Uint32(b[5:]),
		size:      binary.LittleEndian.Uint32(b[9:]),
		logPos:    binary.LittleEndian.Uint32(b[13:]),
		flags:     binary.LittleEndian.Uint16(b[17:]),
	}, nil
}

// formatDescription is what a FORMAT_DESCRIPTION event says about the
// events of its file.
type formatDescription struct {
	serverVersion string
	postHeader    []byte // post-header length per event type - 1
	checksum      byte
}

func (f *formatDescription) postHeaderLen(typ byte, def int) int {
	if f == nil || int(typ) < 1 || int(typ) > len(f.postHeader) {
		return def
	}
	return int(f.postHeader[typ-1])
}

// parseFormatDescription reads the event body (after the common header,
// checksum included).
func parseFormatDescription(body []byte) (*formatDescription, error) {
	if len(body) < 2+50+4+1 {
		return nil, errors.New("format description event too short")
	}
	fd := &formatDescription{serverVersion: strings.TrimRight(string(body[2:52]), "\x00")}
	if hl := body[56]; hl != eventHeaderLen {
		return nil, fmt.Errorf("binary log events with %d-byte headers are not supported", hl)
	}
	rest := body[57:]
	// From MySQL 5.6.1 (and every MariaDB 10) the event ends in the
	// checksum algorithm and a 4-byte checksum.
	if serverVersionAtLeast(fd.serverVersion, 5, 6, 1) {
		if len(rest) < 5 {
			return nil, errors.New("format description event too short")
		}
		fd.checksum = rest[len(rest)-5]
		rest = rest[:len(rest)-5]
	}
	fd.postHeader = append([]byte(nil), rest...)
	return fd, nil
}

// serverVersionAtLeast compares the leading "major.minor.patch" of a server
// version string.
func serverVersionAtLeast(v string, major, minor, patch int) bool {
	var got [3]int
	for i := range got {
		j := 0
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		got[i], _ = strconv.Atoi(v[:j])
		v = v[j:]
		if len(v) == 0 || v[0] != '.' {
			break
		}
		v = v[1:]
	}
	want := [3]int{major, minor, patch}
	for i := range got {
		if got[i] != want[i] {
			return got[i] > want[i]
		}
	}
	return true
}

// verifyChecksum checks and strips the CRC32 of an event.
func verifyChecksum(ev []byte) ([]byte, error) {
	if len(ev) < eventHeaderLen+4 {
		return nil, errors.New("binary log event too short for its checksum")
	}
	n := len(ev) - 4
	if crc32.ChecksumIEEE(ev[:n]) != binary.LittleEndian.Uint32(ev[n:]) {
		return nil, errors.New("binary log event checksum mismatch")
	}
	return ev[:n], nil
}

// rotateEvent names the next file and where to start in it.
func parseRotateEvent(body []byte) (file string, pos uint64, err error) {
	if len(body) < 8 {
		return "", 0, errors.New("rotate event too short")
	}
	return string(body[8:]), binary.LittleEndian.Uint64(body), nil
}

// queryEvent is a statement logged as text (BEGIN, COMMIT, DDL, TRUNCATE).
type binlogQuery struct {
	schema string
	query  string
}

func parseQueryEvent(body []byte, postHeaderLen int) (binlogQuery, error) {
	if postHeaderLen < 13 {
		postHeaderLen = 13
	}
	if len(body) < postHeaderLen {
		return binlogQuery{}, errors.New("query event too short")
	}
	dbLen := int(body[8])
	statusLen := int(binary.LittleEndian.Uint16(body[11:]))
	rest := body[postHeaderLen:]
	if len(rest) < statusLen+dbLen+1 {
		return binlogQuery{}, errors.New("query event too short")
	}
	rest = rest[statusLen:]
	return binlogQuery{schema: string(rest[:dbLen]), query: string(rest[dbLen+1:])}, nil
}

// parseMySQLGTID reads a GTID event: "uuid:gno".
func parseMySQLGTID(body []byte) (string, error) {
	if len(body) < 1+16+8 {
		return "", errors.New("GTID event too short")
	}
	sid := body[1:17]
	gno := binary.LittleEndian.Uint64(body[17:])
	var b strings.Builder
	b.Grow(48)
	for i, part := range [][]byte{sid[0:4], sid[4:6], sid[6:8], sid[8:10], sid[10:16]} {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(hex.EncodeToString(part))
	}
	b.WriteByte(':')
	b.WriteString(strconv.FormatUint(gno, 10))
	return b.String(), nil
}

// parseMariaGTID reads a MariaDB GTID event: "domain-server-seq" and its
// flags.
func parseMariaGTID(body []byte, serverID uint32) (string, byte, error) {
	if len(body) < 13 {
		return "", 0, errors.New("GTID event too short")
	}
	seq := binary.LittleEndian.Uint64(body)
	domain := binary.LittleEndian.Uint32(body[8:])
	return fmt.Sprintf("%d-%d-%d", domain, serverID, seq), body[12], nil
}
