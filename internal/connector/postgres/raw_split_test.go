package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// appendField appends one binary COPY field; nil is NULL.
func appendField(b, v []byte) []byte {
	if v == nil {
		return binary.BigEndian.AppendUint32(b, 0xffffffff)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// rawTestStream is a binary COPY stream of n rows (id int8, v text or
// NULL, b bytea) followed by a key field (text), and the tuples as the
// splitter must hand them over (without the key field).
func rawTestStream(n int) (stream []byte, tuples [][]byte) {
	stream = append(stream, copySignature...)
	stream = append(stream, 0, 0, 0, 0, 0, 0, 0, 3, 'e', 'x', 't') // a header extension of 3 bytes
	for i := range n {
		id := binary.BigEndian.AppendUint64(nil, uint64(i))
		var v []byte
		if i%3 != 0 {
			v = fmt.Appendf(nil, "v%d🐦", i)
		}
		b := bytes.Repeat([]byte{byte(i)}, i%17)
		var tuple []byte
		tuple = binary.BigEndian.AppendUint16(tuple, 3)
		tuple = appendField(tuple, id)
		tuple = appendField(tuple, v)
		tuple = appendField(tuple, b)
		tuples = append(tuples, tuple)
		stream = binary.BigEndian.AppendUint16(stream, 4)
		stream = append(stream, tuple[2:]...)
		stream = appendField(stream, fmt.Appendf(nil, "k%d", i))
	}
	return binary.BigEndian.AppendUint16(stream, 0xffff), tuples
}

func newTestSplitter(batchRows int, out *[]*connector.RawBatch) *rawSplitter {
	return &rawSplitter{ncols: 3, nfields: 4, keyPos: []int{0, 3, 1},
		keys:      newCopyReader([]field{{dec: decInt8}, {dec: decText}, {dec: decText}}, 0, nil),
		batchRows: batchRows,
		fn: func(b *connector.RawBatch) error {
			*out = append(*out, b)
			return nil
		}}
}

// Whatever the stream's pieces, the splitter hands over the same batches:
// whole tuples, the key field cut off, a buffer per batch, and the last
// row's key decoded.
func TestRawSplitterPieces(t *testing.T) {
	const rows, batchRows = 100, 30
	stream, tuples := rawTestStream(rows)
	for _, piece := range []int{1, 2, 5, 64, 1000, len(stream)} {
		var got []*connector.RawBatch
		s := newTestSplitter(batchRows, &got)
		for rest := stream; len(rest) > 0; {
			n := min(piece, len(rest))
			// pgconn reuses its buffer: the splitter must not keep p.
			p := slices.Clone(rest[:n])
			if w, err := s.Write(p); err != nil || w != n {
				t.Fatalf("piece %d: Write = %d, %v", piece, w, err)
			}
			clear(p)
			rest = rest[n:]
		}
		if err := s.finish(); err != nil {
			t.Fatalf("piece %d: %v", piece, err)
		}
		if len(got) != 4 {
			t.Fatalf("piece %d: %d batches", piece, len(got))
		}
		for i, b := range got {
			first, last := i*batchRows, min((i+1)*batchRows, rows)
			want := bytes.Join(tuples[first:last], nil)
			if b.Rows != last-first || !bytes.Equal(b.Data, want) {
				t.Errorf("piece %d batch %d: %d rows, %d bytes, want %d rows, %d bytes", piece, i, b.Rows, len(b.Data), last-first, len(want))
			}
			var v any
			if (last-1)%3 != 0 {
				v = fmt.Sprintf("v%d🐦", last-1)
			}
			if key := (record.Row{int64(last - 1), fmt.Sprintf("k%d", last-1), v}); !slices.Equal(b.LastKey, key) {
				t.Errorf("piece %d batch %d: LastKey %v, want %v", piece, i, b.LastKey, key)
			}
			if i > 0 && &got[i-1].Data[:1][0] == &b.Data[:1][0] {
				t.Errorf("batches %d and %d share a buffer", i-1, i)
			}
		}
	}
}

func TestRawSplitterMalformed(t *testing.T) {
	stream, _ := rawTestStream(5)
	var got []*connector.RawBatch
	cases := map[string][]byte{
		"no signature":     append([]byte("PGCOPX"), stream[6:]...),
		"data after end":   append(slices.Clone(stream), 0, 4),
		"wrong count":      slices.Concat(stream[:22], []byte{0, 3}, stream[24:]),
		"ends inside":      stream[:len(stream)-7],
		"ends without end": stream[:len(stream)-2],
	}
	for name, data := range cases {
		s := newTestSplitter(2, &got)
		_, err := s.Write(data)
		if err == nil {
			err = s.finish()
		}
		if !errors.Is(err, ErrCopyProtocol) {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	stop := errors.New("stop")
	s := newTestSplitter(2, &got)
	s.fn = func(*connector.RawBatch) error { return stop }
	if _, err := s.Write(stream); !errors.Is(err, stop) {
		t.Errorf("fn's error: %v", err)
	}
}

// A raw batch's COPY stream yields header, data and trailer as one stream, whatever the
// reader's buffer.
func TestRawSource(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100)
	want := slices.Concat(rawHeader, data, rawTrailer)
	if len(rawHeader) != 19 {
		t.Fatalf("header of %d bytes", len(rawHeader))
	}
	for _, size := range []int{1, 3, 19, 20, 4096} {
		src := &copyChunks{bufs: [][]byte{rawHeader, data, rawTrailer}}
		var got []byte
		buf := make([]byte, size)
		for {
			n, err := src.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil || n == 0 {
				t.Fatalf("size %d: %d, %v", size, n, err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("size %d: %d bytes", size, len(got))
		}
	}
}
