package postgres

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/godwit-dms/godwit/internal/record"
)

// copySignature starts a binary COPY stream.
var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// Seconds from the Unix epoch to PostgreSQL's (2000-01-01).
const pgEpochUnix = 946684800

// Clamped values of ±infinity dates and timestamps (see TYPES.md).
var (
	timeInfinity    = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	timeNegInfinity = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	dateInfinity    = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// arenaChunk is the size of the blocks string and byte values are cut from.
const arenaChunk = 256 << 10

// field is how one column of the stream decodes.
type field struct {
	dec    decoder
	lobMax int // > 0: cut text and bytea values to this many bytes
	// failLOB makes a value longer than lobMax an error (lobTooLarge)
	// instead of cut; name is the column's, for that error.
	failLOB bool
	name    string
}

// lobTooLarge is the error of a LOB value longer than the limit of
// limited LOB mode when FailTasksOnLobTruncation asks for a failure.
func lobTooLarge(column string, limit int) error {
	return fmt.Errorf("column %s holds a value longer than the %d bytes of limited LOB mode (LobMaxSize), and FailTasksOnLobTruncation is set, so the task fails instead of cutting it: raise LobMaxSize or use full LOB mode",
		quoteIdent(column), limit)
}

// copyReader parses a binary COPY TO stream written to it by
// pgconn.CopyTo, decodes each tuple into canonical values and hands full
// batches to fn. Batches and their rows are reused; the bytes of string
// and []byte values live in blocks that are never reused, so values stay
// valid after fn returns.
type copyReader struct {
	fields    []field
	batchRows int
	fn        func(rows []record.Row) error

	batch []record.Row
	n     int // rows in batch
	copyFrames
	header bool
	arena  []byte
	rows   int64
}

func newCopyReader(fields []field, batchRows int, fn func([]record.Row) error) *copyReader {
	return &copyReader{fields: fields, batchRows: batchRows, fn: fn}
}

// Write takes the next piece of the stream (one CopyData message).
func (r *copyReader) Write(p []byte) (int, error) { return r.feed(p, r.parse) }

// finish hands the last, partial batch to fn and checks the stream ended
// properly.
func (r *copyReader) finish() error {
	if err := r.ended(); err != nil {
		return err
	}
	return r.flush()
}

func (r *copyReader) flush() error {
	if r.n == 0 {
		return nil
	}
	n := r.n
	r.n = 0
	return r.fn(r.batch[:n])
}

// parse decodes the complete tuples at the start of p and returns how many
// bytes they took.
func (r *copyReader) parse(p []byte) (int, error) {
	off := 0
	if !r.header {
		if len(p) < len(copySignature)+8 {
			return 0, nil
		}
		if !bytes.Equal(p[:len(copySignature)], copySignature) {
			return 0, fmt.Errorf("%w: no binary COPY signature", ErrCopyProtocol)
		}
		ext := int(binary.BigEndian.Uint32(p[len(copySignature)+4:]))
		if len(p) < len(copySignature)+8+ext {
			return 0, nil
		}
		off = len(copySignature) + 8 + ext
		r.header = true
	}
	nf := len(r.fields)
	for off+2 <= len(p) {
		if r.trailer {
			return off, fmt.Errorf("%w: data after the end marker", ErrCopyProtocol)
		}
		count := int16(binary.BigEndian.Uint16(p[off:]))
		if count == -1 {
			r.trailer = true
			off += 2
			continue
		}
		if int(count) != nf {
			return off, fmt.Errorf("%w: a row of %d fields, want %d", ErrCopyProtocol, count, nf)
		}
		// Check the tuple is complete before decoding any of it.
		end := off + 2
		for i := 0; i < nf; i++ {
			if end+4 > len(p) {
				return off, nil
			}
			l := int32(binary.BigEndian.Uint32(p[end:]))
			end += 4
			if l > 0 {
				end += int(l)
			}
		}
		if end > len(p) {
			return off, nil
		}
		if r.n == len(r.batch) {
			r.batch = append(r.batch, make(record.Row, nf))
		}
		row := r.batch[r.n]
		pos := off + 2
		for i := range r.fields {
			l := int32(binary.BigEndian.Uint32(p[pos:]))
			pos += 4
			if l < 0 {
				row[i] = nil
				continue
			}
			v, err := r.decode(&r.fields[i], p[pos:pos+int(l)])
			if err != nil {
				return off, fmt.Errorf("column %d: %w", i+1, err)
			}
			row[i] = v
			pos += int(l)
		}
		off = end
		r.n++
		r.rows++
		if r.n >= r.batchRows {
			if err := r.flush(); err != nil {
				return off, err
			}
		}
	}
	return off, nil
}

// alloc returns n bytes of the current arena block.
func (r *copyReader) alloc(n int) []byte {
	if cap(r.arena)-len(r.arena) < n {
		r.arena = make([]byte, 0, max(arenaChunk, n))
	}
	start := len(r.arena)
	r.arena = r.arena[:start+n]
	return r.arena[start : start+n : start+n]
}

// str copies b into the arena and returns it as a string.
func (r *copyReader) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	d := r.alloc(len(b))
	copy(d, b)
	return unsafe.String(&d[0], len(d))
}

// lobText is a text value, cut to f.lobMax bytes (never inside a
// character) when set, or refused as longer with f.failLOB.
func (r *copyReader) lobText(f *field, b []byte) (any, error) {
	if f.lobMax > 0 && len(b) > f.lobMax {
		if f.failLOB {
			return nil, lobTooLarge(f.name, f.lobMax)
		}
		b = cutUTF8(b, f.lobMax)
	}
	return r.str(b), nil
}

// decode turns one non-NULL field into its canonical value.
func (r *copyReader) decode(f *field, b []byte) (any, error) {
	switch f.dec {
	case decText:
		return r.lobText(f, b)
	case decJSONB:
		if len(b) < 1 || b[0] != 1 {
			return nil, fmt.Errorf("%w: jsonb version %v", ErrCopyProtocol, b[:min(len(b), 1)])
		}
		return r.lobText(f, b[1:])
	case decBool:
		if len(b) != 1 {
			return nil, sizeError("boolean", b, 1)
		}
		return b[0] != 0, nil
	case decInt2:
		if len(b) != 2 {
			return nil, sizeError("smallint", b, 2)
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case decInt4:
		if len(b) != 4 {
			return nil, sizeError("integer", b, 4)
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case decInt8:
		if len(b) != 8 {
			return nil, sizeError("bigint", b, 8)
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case decOID:
		if len(b) != 4 {
			return nil, sizeError("oid", b, 4)
		}
		return int64(binary.BigEndian.Uint32(b)), nil
	case decFloat4:
		if len(b) != 4 {
			return nil, sizeError("real", b, 4)
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case decFloat8:
		if len(b) != 8 {
			return nil, sizeError("double precision", b, 8)
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case decNumeric:
		var tmp [64]byte
		out, err := appendNumericText(tmp[:0], b)
		if err != nil {
			return nil, err
		}
		return r.str(out), nil
	case decBytea:
		if f.lobMax > 0 && len(b) > f.lobMax {
			if f.failLOB {
				return nil, lobTooLarge(f.name, f.lobMax)
			}
			b = b[:f.lobMax]
		}
		d := r.alloc(len(b))
		copy(d, b)
		return d, nil
	case decDate:
		if len(b) != 4 {
			return nil, sizeError("date", b, 4)
		}
		days := int32(binary.BigEndian.Uint32(b))
		switch days {
		case math.MaxInt32:
			return dateInfinity, nil
		case math.MinInt32:
			return timeNegInfinity, nil
		}
		return time.Unix(pgEpochUnix+int64(days)*86400, 0).UTC(), nil
	case decTime:
		if len(b) != 8 {
			return nil, sizeError("time", b, 8)
		}
		var tmp [16]byte
		return r.str(appendClock(tmp[:0], int64(binary.BigEndian.Uint64(b)))), nil
	case decTimestamp, decTimestampTZ:
		if len(b) != 8 {
			return nil, sizeError("timestamp", b, 8)
		}
		us := int64(binary.BigEndian.Uint64(b))
		switch us {
		case math.MaxInt64:
			return timeInfinity, nil
		case math.MinInt64:
			return timeNegInfinity, nil
		}
		sec, frac := us/1e6, us%1e6
		if frac < 0 {
			sec, frac = sec-1, frac+1e6
		}
		return time.Unix(pgEpochUnix+sec, frac*1000).UTC(), nil
	case decUUID:
		if len(b) != 16 {
			return nil, sizeError("uuid", b, 16)
		}
		d := r.alloc(36)
		hex.Encode(d[0:8], b[0:4])
		d[8] = '-'
		hex.Encode(d[9:13], b[4:6])
		d[13] = '-'
		hex.Encode(d[14:18], b[6:8])
		d[18] = '-'
		hex.Encode(d[19:23], b[8:10])
		d[23] = '-'
		hex.Encode(d[24:36], b[10:16])
		return unsafe.String(&d[0], 36), nil
	}
	return nil, fmt.Errorf("%w: decoder %d", ErrCopyProtocol, f.dec)
}

func sizeError(typ string, b []byte, want int) error {
	return fmt.Errorf("%w: %s of %d bytes, want %d", ErrCopyProtocol, typ, len(b), want)
}

// cutUTF8 shortens b to at most n bytes without splitting a character.
func cutUTF8(b []byte, n int) []byte {
	b = b[:n]
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size > 1 {
			return b
		}
		b = b[:len(b)-1]
	}
	return b
}

// copyFrames carries the bytes of a tuple split across CopyData messages
// over to the next message, for a parser of binary COPY streams; the
// parser sets trailer when it reads the end-of-stream marker.
type copyFrames struct {
	pending []byte
	trailer bool
	// err is parse's error: the COPY was abandoned because of what it
	// held (a bad value, a broken stream), not because the session failed.
	err error
}

// parseError wraps the error of a COPY abandoned for what it held (see
// copyFrames.err) with doing, or returns nil when parsing never failed.
func (f *copyFrames) parseError(doing string) error {
	if f.err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", doing, f.err)
}

// feed parses p, after the carried-over bytes if any, and keeps what
// parse leaves unused.
func (f *copyFrames) feed(p []byte, parse func([]byte) (int, error)) (int, error) {
	if len(f.pending) == 0 {
		used, err := parse(p)
		if err != nil {
			f.err = err
			return 0, err
		}
		f.pending = append(f.pending, p[used:]...)
		return len(p), nil
	}
	f.pending = append(f.pending, p...)
	used, err := parse(f.pending)
	if err != nil {
		f.err = err
		return 0, err
	}
	rest := copy(f.pending, f.pending[used:])
	f.pending = f.pending[:rest]
	return len(p), nil
}

// ended checks the stream ended at a tuple boundary with its trailer.
func (f *copyFrames) ended() error {
	if len(f.pending) != 0 || !f.trailer {
		return fmt.Errorf("%w: the stream ended inside a row", ErrCopyProtocol)
	}
	return nil
}
