package postgres

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// Bounds of the first capacity guess of a raw batch's buffer.
const (
	rawMinBuffer = 64 << 10
	rawMaxGuess  = 8 << 20
)

// rawSplitter cuts a binary COPY TO stream written to it by
// pgconn.CopyTo into batches of whole tuples, copying their bytes into one
// buffer per batch without decoding them. Tuples may carry key fields
// after the ncols columns (the key columns as Read selects them): those
// are cut off, and only the last tuple's key fields are decoded, when the
// batch is handed over.
type rawSplitter struct {
	ncols   int   // fields passed through
	nfields int   // fields in the stream (ncols + key fields)
	keyPos  []int // field index of each OrderBy column
	keys    *copyReader
	// cut, when set, is per column the size values are cut to (limited
	// LOB mode; 0 = not cut), cutText whether at a UTF-8 character boundary.
	cut     []int
	cutText []bool
	// failCut makes a value longer than its cut an error (lobTooLarge);
	// names are the columns', for it.
	failCut   bool
	names     []string
	batchRows int
	fn        func(b *connector.RawBatch) error
	// posField, when > 0, is the field holding the tuple's ctid (a read in
	// storage order): pos follows them, and the batch's Position is its
	// last tuple's.
	posField int
	pos      positionTracker

	buf   []byte // the batch being filled
	rows  int
	last  int    // offset in buf of the batch's last tuple
	extra []byte // the fields after ncols of the last tuple
	guess int    // capacity of the next batch's buffer

	copyFrames
	header bool
}

// rawBuffers holds the buffers of raw batches a loader has sent, for the
// next batches read: a buffer taken new is cleared by the runtime, which
// cost a 2M-row load about a tenth of Godwit's CPU.
var rawBuffers sync.Pool

// rawBuffer returns an empty buffer of at least size bytes' capacity.
func rawBuffer(size int) []byte {
	if p, ok := rawBuffers.Get().(*[]byte); ok && cap(*p) >= size {
		return (*p)[:0]
	}
	return make([]byte, 0, size)
}

// recycleRaw gives a batch's buffer back for later batches: whoever calls
// it must hold the only reference to the buffer.
func recycleRaw(b []byte) {
	if cap(b) >= rawMinBuffer {
		rawBuffers.Put(&b)
	}
}

// Write takes the next piece of the stream (one CopyData message; a
// message's bytes are copied before Write returns).
func (s *rawSplitter) Write(p []byte) (int, error) { return s.feed(p, s.parse) }

// finish hands over the last, partial batch and checks the stream ended
// properly.
func (s *rawSplitter) finish() error {
	if err := s.ended(); err != nil {
		return err
	}
	return s.flush()
}

// parse moves the complete tuples at the start of p into batches and
// returns how many bytes they took.
func (s *rawSplitter) parse(p []byte) (int, error) {
	off := 0
	if !s.header {
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
		s.header = true
	}
	for off+2 <= len(p) {
		if s.trailer {
			return off, fmt.Errorf("%w: data after the end marker", ErrCopyProtocol)
		}
		count := int16(binary.BigEndian.Uint16(p[off:]))
		if count == -1 {
			s.trailer = true
			off += 2
			continue
		}
		if int(count) != s.nfields {
			return off, fmt.Errorf("%w: a row of %d fields, want %d", ErrCopyProtocol, count, s.nfields)
		}
		// Find the tuple's end (and where its columns end) without
		// copying anything of an incomplete one.
		end, cols, long := off+2, 0, false
		for i := 0; i < s.nfields; i++ {
			if i == s.ncols {
				cols = end
			}
			if end+4 > len(p) {
				return off, nil
			}
			l := int32(binary.BigEndian.Uint32(p[end:]))
			end += 4
			if l > 0 {
				end += int(l)
				if s.cut != nil && i < s.ncols && s.cut[i] > 0 && int(l) > s.cut[i] {
					if s.failCut {
						return off, lobTooLarge(s.names[i], s.cut[i])
					}
					long = true
				}
			}
		}
		if end > len(p) {
			return off, nil
		}
		if s.posField > 0 {
			b, _ := nthField(p[cols:end], s.posField-s.ncols)
			s.pos.note(b)
		}
		if s.buf == nil {
			if s.guess == 0 {
				s.guess = min(max((end-off)*s.batchRows*9/8, rawMinBuffer), rawMaxGuess)
			}
			s.buf = rawBuffer(s.guess)
		}
		s.last = len(s.buf)
		switch {
		case long:
			colsEnd := end
			if s.nfields != s.ncols {
				colsEnd = cols
				s.extra = append(s.extra[:0], p[cols:end]...)
			}
			s.appendCut(p[off+2 : colsEnd])
		case s.nfields == s.ncols:
			s.buf = append(s.buf, p[off:end]...)
		default:
			s.buf = binary.BigEndian.AppendUint16(s.buf, uint16(s.ncols))
			s.buf = append(s.buf, p[off+2:cols]...)
			s.extra = append(s.extra[:0], p[cols:end]...)
		}
		off = end
		s.rows++
		if s.rows >= s.batchRows {
			if err := s.flush(); err != nil {
				return off, err
			}
		}
	}
	return off, nil
}

// cutAt makes the splitter cut the values of column i to n bytes, at a
// UTF-8 character boundary when text.
func (s *rawSplitter) cutAt(i, n int, text bool) {
	if s.cut == nil {
		s.cut, s.cutText = make([]int, s.ncols), make([]bool, s.ncols)
	}
	s.cut[i], s.cutText[i] = n, text
}

// appendCut appends a tuple of the ncols fields in fields (length-prefixed
// values, back to back) with the values longer than their cut cut.
func (s *rawSplitter) appendCut(fields []byte) {
	s.buf = binary.BigEndian.AppendUint16(s.buf, uint16(s.ncols))
	off := 0
	for i := 0; i < s.ncols; i++ {
		l := int32(binary.BigEndian.Uint32(fields[off:]))
		off += 4
		if l < 0 {
			s.buf = binary.BigEndian.AppendUint32(s.buf, uint32(l))
			continue
		}
		v := fields[off : off+int(l)]
		off += int(l)
		if n := s.cut[i]; n > 0 && len(v) > n {
			if s.cutText[i] {
				for n > 0 && !utf8.RuneStart(v[n]) {
					n-- // v[n] continues the character v[:n] would cut
				}
			}
			v = v[:n]
		}
		s.buf = binary.BigEndian.AppendUint32(s.buf, uint32(len(v)))
		s.buf = append(s.buf, v...)
	}
}

// flush hands the batch to fn; the next tuple starts a new buffer.
func (s *rawSplitter) flush() error {
	if s.rows == 0 {
		return nil
	}
	key, err := s.lastKey()
	if err != nil {
		return err
	}
	b := &connector.RawBatch{Data: s.buf, Rows: s.rows, LastKey: key}
	if s.posField > 0 {
		b.Position = s.pos.position()
	}
	// The next batch is likely the same size: room for it and a little
	// more, so that its buffer is not grown and copied.
	s.guess = max(len(s.buf)+len(s.buf)/16, rawMinBuffer)
	s.buf, s.rows, s.last = nil, 0, 0
	return s.fn(b)
}

// lastKey decodes the key fields of the batch's last tuple into canonical
// values, in memory of their own.
func (s *rawSplitter) lastKey() (record.Row, error) {
	if len(s.keyPos) == 0 {
		return nil, nil
	}
	cols := s.buf[s.last+2:]
	fields := make([][]byte, len(s.keyPos))
	null := make([]bool, len(s.keyPos))
	size := 0
	for k, pos := range s.keyPos {
		var b []byte
		var ok bool
		if pos < s.ncols {
			b, ok = nthField(cols, pos)
		} else {
			b, ok = nthField(s.extra, pos-s.ncols)
		}
		fields[k], null[k] = b, !ok
		size += len(b)
	}
	// Room for the decoded text of every key value (a numeric's or a
	// uuid's text is longer than its binary form); the decoder takes a
	// block of its own if this is not enough.
	s.keys.arena = make([]byte, 0, 2*size+40*len(s.keyPos))
	key := make(record.Row, len(s.keyPos))
	for k := range s.keyPos {
		if null[k] {
			continue
		}
		v, err := s.keys.decode(&s.keys.fields[k], fields[k])
		if err != nil {
			return nil, fmt.Errorf("the key of a batch's last row: %w", err)
		}
		key[k] = v
	}
	return key, nil
}

// nthField returns field i of fields (length-prefixed values, back to
// back); ok is false for NULL.
func nthField(fields []byte, i int) (b []byte, ok bool) {
	off := 0
	for {
		l := int32(binary.BigEndian.Uint32(fields[off:]))
		off += 4
		if i == 0 {
			if l < 0 {
				return nil, false
			}
			return fields[off : off+int(l)], true
		}
		if l > 0 {
			off += int(l)
		}
		i--
	}
}
