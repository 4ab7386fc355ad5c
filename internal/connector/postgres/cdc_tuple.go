package postgres

// pgoutput's row messages (Insert, Update, Delete) are read in place
// rather than through pglogrepl.Parse, which allocates a struct and a copy
// of the bytes for every column of every row: on a busy stream that was a
// quarter of the decoding's CPU and most of its garbage. The message is
// copied once, and each text value decoded as a view of that copy.
//
// Layout (protocol version 1):
//
//	Insert  'I' relid:int32 'N' tuple
//	Update  'U' relid:int32 ['K'|'O' tuple] 'N' tuple
//	Delete  'D' relid:int32 'K'|'O' tuple
//	tuple   ncols:int16 { 'n' | 'u' | 't' len:int32 bytes | 'b' len:int32 bytes }

import (
	"encoding/binary"
	"fmt"
)

// cdcTuple is a tuple of a row message: per column its kind ('n' NULL,
// 'u' unchanged TOASTed value, 't' text, 'b' binary) and its bytes, views
// of the message.
type cdcTuple struct {
	kinds []byte
	vals  [][]byte
}

// read reads a tuple at the start of b and returns what follows it.
func (t *cdcTuple) read(b []byte) ([]byte, error) {
	if len(b) < 2 {
		return nil, errTupleShort
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	t.kinds, t.vals = t.kinds[:0], t.vals[:0]
	for range n {
		if len(b) < 1 {
			return nil, errTupleShort
		}
		kind := b[0]
		b = b[1:]
		var val []byte
		switch kind {
		case 'n', 'u':
		case 't', 'b':
			if len(b) < 4 {
				return nil, errTupleShort
			}
			l := binary.BigEndian.Uint32(b)
			if uint64(l) > uint64(len(b)-4) {
				return nil, errTupleShort
			}
			val, b = b[4:4+l:4+l], b[4+l:]
		default:
			return nil, fmt.Errorf("%w: tuple value of kind %q", ErrReplicationProtocol, kind)
		}
		t.kinds = append(t.kinds, kind)
		t.vals = append(t.vals, val)
	}
	return b, nil
}

// text is column i's text, "" when it is not a text value.
func (t *cdcTuple) text(i int) string {
	if i < 0 || i >= len(t.kinds) || t.kinds[i] != 't' {
		return ""
	}
	return string(t.vals[i])
}

var errTupleShort = fmt.Errorf("%w: a row message ends inside its tuple", ErrReplicationProtocol)

// cdcRowMessage is a row message's parts: the relation, the old tuple
// (kind 'K' key or 'O' whole old row, 0 when absent) and the new one
// (present unless the message is a delete).
type cdcRowMessage struct {
	op       byte
	relid    uint32
	oldKind  byte
	old, new cdcTuple
}

// parse reads msg, an 'I', 'U' or 'D' message, into m; the tuples are
// views of msg.
func (m *cdcRowMessage) parse(msg []byte) error {
	if len(msg) < 6 {
		return fmt.Errorf("%w: a %q message of %d bytes", ErrReplicationProtocol, msg[0], len(msg))
	}
	m.op, m.relid, m.oldKind = msg[0], binary.BigEndian.Uint32(msg[1:]), 0
	b := msg[5:]
	var err error
	if m.op != 'I' && (b[0] == 'K' || b[0] == 'O') {
		m.oldKind = b[0]
		if b, err = m.old.read(b[1:]); err != nil {
			return err
		}
	}
	switch {
	case m.op == 'D' && m.oldKind == 0:
		return fmt.Errorf("%w: a delete message without its old row", ErrReplicationProtocol)
	case m.op == 'D':
	case len(b) == 0 || b[0] != 'N':
		return fmt.Errorf("%w: a %q message without its new row", ErrReplicationProtocol, m.op)
	default:
		if b, err = m.new.read(b[1:]); err != nil {
			return err
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d bytes after the tuples of a %q message", ErrReplicationProtocol, len(b), m.op)
	}
	return nil
}
