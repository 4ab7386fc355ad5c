package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// RawFamilyBinaryCopy is the raw format of this connector: the tuples of a
// binary COPY stream (PostgreSQL's send/receive formats of each type).
const RawFamilyBinaryCopy = "postgres-binary-copy"

// ErrRawUnsupported: a table cannot go through the raw binary copy (a
// column whose binary form names type OIDs that differ between databases,
// a type without binary I/O, LOB truncation asked for, or a target column
// whose type is not the source's). It is returned before anything is read
// or written, and wraps errors.ErrUnsupported so that the engine can fall
// back to Read and Load without knowing this package.
var ErrRawUnsupported = fmt.Errorf("raw binary copy not possible: %w", errors.ErrUnsupported)

// The raw capabilities.
var (
	_ connector.RawCopier   = (*Conn)(nil)
	_ connector.RawLoader   = (*Conn)(nil)
	_ connector.RawCopier   = (*Snapshot)(nil)
	_ connector.RawSnapshot = (*Snapshot)(nil)
)

// firstNormalOID is PostgreSQL's FirstNormalObjectId: types with a smaller
// OID are built in and have the same OID in every database.
const firstNormalOID = 16384

// RawFamily is "postgres-binary-copy".
func (c *Conn) RawFamily() string { return RawFamilyBinaryCopy }

// RawFamily is "postgres-binary-copy", as the connector's.
func (s *Snapshot) RawFamily() string { return RawFamilyBinaryCopy }

// rawHeader starts a binary COPY FROM stream: the signature, no flags, no
// header extension.
var rawHeader = append(append([]byte(nil), copySignature...), 0, 0, 0, 0, 0, 0, 0, 0)

// rawTrailer ends it (a field count of -1).
var rawTrailer = []byte{0xff, 0xff}

// ReadRaw streams the rows req selects to fn in batches of req.BatchRows
// binary COPY tuples, on one of the snapshot's sessions, like Read: the
// same rows in the same order, but every column selected as it is (no
// conversion on the server) and its bytes handed over undecoded. Only the
// OrderBy columns of each batch's last row are decoded, into b.LastKey,
// exactly as Read would give them (a key column Read converts on the
// server, such as inet or money, is selected a second time for it and cut
// from the tuples). Each batch has its own buffer, which fn may keep.
//
// Values go through as the server stores them: ±infinity dates and
// timestamps stay infinite on the target (Read clamps them; LastKey holds
// the clamped values, which Range and After read back as ±infinity). ORDER
// BY always sorts on the columns themselves, in their type's order, as
// the After and Range conditions compare them.
//
// With req.LOBMaxBytes, text and bytea values are cut as Read cuts them.
// A table whose columns cannot be copied this way returns
// ErrRawUnsupported before fn is called.
func (s *Snapshot) ReadRaw(ctx context.Context, req *connector.ReadRequest, fn func(b *connector.RawBatch) error) error {
	if req == nil || req.Table == nil {
		return fmt.Errorf("%w: a read needs a table", ErrNoSuchTable)
	}
	pg, rel, err := s.tableSession(ctx, req.Table)
	if err != nil {
		return err
	}
	defer s.release(pg)
	storage, err := inStorageOrder(rel, req, true)
	if err != nil {
		return err
	}
	q, sp, plans, err := rawQuery(rel, req, storage, s.c.cfg.FailOnLOBTruncation)
	if err != nil {
		return err
	}
	if err := checkBinaryIO(ctx, pg, plans); err != nil {
		return classify(ctx, pg, "checking the binary I/O of "+quoteTable(rel.table.Schema, rel.table.Name), err)
	}
	if storage {
		if err := scanInStorageOrder(ctx, pg); err != nil {
			return err
		}
	}
	sp.batchRows = req.BatchRows
	if sp.batchRows <= 0 {
		sp.batchRows = defaultBatchRows
	}
	var fnErr error
	sp.fn = func(b *connector.RawBatch) error {
		fnErr = fn(b)
		return fnErr
	}
	err = s.copyTo(ctx, pg, sp, q)
	if fnErr != nil {
		return fnErr
	}
	doing := "reading " + quoteTable(rel.table.Schema, rel.table.Name)
	if perr := sp.parseError(doing); perr != nil {
		return perr
	}
	if err != nil {
		return classify(ctx, pg, doing, err)
	}
	return sp.finish()
}

// rawQuery builds the COPY of a raw read: the columns as they are, then
// the key columns the tuples lack in the form Read decodes (and with
// storage, the rows' ctid instead of an ORDER BY), and the splitter that
// cuts the stream into batches (with failLOB, failing on a LOB value
// longer than req.LOBMaxBytes instead of cutting it).
func rawQuery(rel *relation, req *connector.ReadRequest, storage, failLOB bool) (string, *rawSplitter, []*colPlan, error) {
	names := req.Columns
	if len(names) == 0 {
		names = make([]string, len(rel.plans))
		for i := range rel.plans {
			names[i] = rel.plans[i].name
		}
	}
	plans, err := rel.plansFor(names)
	if err != nil {
		return "", nil, nil, err
	}
	list := make([]string, len(plans), len(plans)+len(req.OrderBy))
	sp := &rawSplitter{ncols: len(plans), names: make([]string, len(plans)), failCut: failLOB}
	for i, p := range plans {
		if why := rawBlocker(p.base); why != "" {
			return "", nil, nil, fmt.Errorf("%w: column %s of %s is %s", ErrRawUnsupported, quoteIdent(p.name), quoteTable(rel.table.Schema, rel.table.Name), why)
		}
		list[i], sp.names[i] = quoteIdent(p.name), p.name
		if req.LOBMaxBytes > 0 {
			// Limited LOB mode: bytea and text values are cut to
			// LOBMaxBytes bytes as the stream passes (text never inside
			// a character), as Read cuts them; the server sends them
			// whole, which costs it less than cutting them. JSON is not
			// cut (a cut document would not load): it is copied whole.
			switch {
			case p.dec == decBytea:
				sp.cutAt(i, req.LOBMaxBytes, false)
			case p.typ.Kind == record.KindText && p.read == readRaw:
				sp.cutAt(i, req.LOBMaxBytes, true)
			}
		}
	}
	if len(req.OrderBy) > 0 {
		keyPlans, err := rel.plansFor(req.OrderBy)
		if err != nil {
			return "", nil, nil, err
		}
		var keyFields []field
		for _, kp := range keyPlans {
			pos := -1
			for i, p := range plans {
				if p == kp && p.read == readRaw {
					pos = i
					break
				}
			}
			if pos < 0 {
				// Not among the columns, or converted by Read: select it
				// again as Read does, under a name of its own so that
				// ORDER BY still means the column itself.
				expr, _ := selectExpr(kp, 0, false)
				pos = len(list)
				list = append(list, fmt.Sprintf("%s AS \"godwit raw key %d\"", expr, len(sp.keyPos)+1))
			}
			sp.keyPos = append(sp.keyPos, pos)
			keyFields = append(keyFields, field{dec: kp.dec})
		}
		sp.keys = newCopyReader(keyFields, 0, nil)
	}
	if storage {
		sp.posField = len(list)
		list = append(list, `ctid AS "godwit raw position"`)
	}
	sp.nfields = len(list)
	where, err := whereClause(rel, filterSpec{filters: req.Filters, rng: req.Range, orderBy: req.OrderBy, after: req.After, stored: req.Stored, source: true})
	if err != nil {
		return "", nil, nil, err
	}
	var b strings.Builder
	b.WriteString("COPY (SELECT ")
	b.WriteString(strings.Join(list, ", "))
	b.WriteString(" FROM ")
	b.WriteString(rel.from())
	b.WriteString(where)
	if len(req.OrderBy) > 0 && !storage {
		b.WriteString(" ORDER BY ")
		for i, c := range req.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteTable(rel.table.Schema, rel.table.Name) + "." + quoteIdent(c))
		}
	}
	b.WriteString(") TO STDOUT (FORMAT binary)")
	return b.String(), sp, plans, nil
}

// rawBlocker says why values of type t (domains resolved) cannot be
// copied in binary from one database to another, or "" when they can.
// The binary form of a composite value names the type OID of each field,
// and that of an array its element type's OID; the receiving server
// refuses OIDs other than its own, which only built-in types share.
func rawBlocker(t *pgType) string {
	switch {
	case t == nil:
		return "of an unknown type"
	case t.typtype == 'c':
		return "of a composite type (" + t.name + ")"
	case t.category == 'A' && t.elem >= firstNormalOID:
		return "an array of a user-defined type (" + t.name + ")"
	case t.typtype == 'p':
		return "of a pseudo-type (" + t.name + ")"
	}
	return ""
}

// checkBinaryIO refuses types without a binary send or receive function
// (some extension types), which a binary COPY cannot carry.
func checkBinaryIO(ctx context.Context, pg *pgx.Conn, plans []*colPlan) error {
	oids := make([]uint32, 0, len(plans))
	for _, p := range plans {
		oids = append(oids, p.base.oid)
		if p.base.elem != 0 {
			oids = append(oids, p.base.elem)
		}
	}
	rows, err := pg.Query(ctx, `SELECT pg_catalog.format_type(oid, NULL) FROM pg_catalog.pg_type
WHERE oid = ANY($1::oid[]) AND (typsend::oid = 0 OR typreceive::oid = 0) ORDER BY 1`, oids)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(names) > 0 {
		return fmt.Errorf("%w: no binary I/O for type %s", ErrRawUnsupported, strings.Join(names, ", "))
	}
	return nil
}

// LoadRaw writes a raw batch into t with one binary COPY, which is one
// transaction: all of its rows or none (LoadRawStream of one batch).
func (c *Conn) LoadRaw(ctx context.Context, t *record.Table, b *connector.RawBatch) error {
	return c.loadRaw(ctx, t, func() (*connector.RawBatch, error) {
		next := b
		b = nil
		return next, nil
	}, false)
}

// LoadRawStream writes the raw batches next returns into t with one binary
// COPY, which is one transaction: all of their rows or none. Each batch's
// tuples must have t's columns in t's order, as a ReadRaw of the same
// columns delivers them. Nothing is sent before the first batch; without
// one, nothing is done.
//
// It assumes the source columns have exactly the types of t's columns on
// the target (the engine checks Native types before choosing the raw
// path): binary values carry no type, and the same bytes can mean another
// value in another type. As a guard it compares t's native types with the
// target table's (from the catalog view cached for Load) and returns
// ErrRawUnsupported, writing nothing, when one differs. A row the target
// refuses (SQLSTATE class 22 or 23) fails the load with ErrRowRejected; an
// error of next fails it with that error. Once a batch's rows are sent,
// its buffer serves later batches read by ReadRaw.
func (c *Conn) LoadRawStream(ctx context.Context, t *record.Table, next func() (*connector.RawBatch, error)) error {
	return c.loadRaw(ctx, t, next, true)
}

// loadRaw is LoadRawStream; recycle says whether the batches' buffers are
// the loader's to reuse (LoadRaw's caller keeps its batch).
func (c *Conn) loadRaw(ctx context.Context, t *record.Table, next func() (*connector.RawBatch, error), recycle bool) error {
	first, err := nextRaw(next)
	if err != nil || first == nil {
		return err
	}
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	name := quoteTable(t.Schema, t.Name)
	rel, err := c.target(ctx, pg, t)
	if err != nil {
		return classify(ctx, pg, "loading "+name, err)
	}
	names := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		names[i] = col.Name
	}
	plans, err := rel.plansFor(names)
	if err != nil {
		return err
	}
	for i, p := range plans {
		want := t.Columns[i].Type
		if want.Engine != Engine || want.Native != p.typ.Native {
			return fmt.Errorf("%w: column %s of %s is %s on the target, the batch holds %s %s", ErrRawUnsupported,
				quoteIdent(p.name), name, p.typ.Native, want.Engine, want.Native)
		}
		if why := rawBlocker(p.base); why != "" {
			return fmt.Errorf("%w: column %s of %s is %s", ErrRawUnsupported, quoteIdent(p.name), name, why)
		}
	}
	src := &rawStream{next: next, ncols: len(names), name: name, recycle: recycle}
	if err := src.check(first); err != nil {
		return err
	}
	src.bufs, src.sending = [][]byte{rawHeader, first.Data}, first.Data
	_, err = pg.PgConn().CopyFrom(ctx, src, "COPY "+name+" ("+quoteIdents(names)+") FROM STDIN (FORMAT binary)")
	if src.err != nil {
		return src.err
	}
	return classifyLoad(ctx, pg, "loading "+name, err)
}

// nextRaw is the next non-empty batch of next (nil at the end).
func nextRaw(next func() (*connector.RawBatch, error)) (*connector.RawBatch, error) {
	for {
		b, err := next()
		if err != nil || b == nil {
			return nil, err
		}
		if b.Rows > 0 && len(b.Data) > 0 {
			return b, nil
		}
	}
}

// rawStream is the COPY stream of LoadRawStream: the header, each batch's
// tuples as next returns them, the trailer.
type rawStream struct {
	copyChunks
	next  func() (*connector.RawBatch, error)
	ncols int
	name  string
	done  bool
	err   error // next's, or a batch of the wrong shape
	// sending is the Data of the batch being sent, recycled (recycleRaw)
	// when its last byte is read, if recycle.
	sending []byte
	recycle bool
}

func (s *rawStream) check(b *connector.RawBatch) error {
	if len(b.Data) < 2 || int(int16(binary.BigEndian.Uint16(b.Data))) != s.ncols {
		return fmt.Errorf("%w: the batch's rows do not have the %d columns of %s", ErrCopyProtocol, s.ncols, s.name)
	}
	return nil
}

func (s *rawStream) Read(p []byte) (int, error) {
	for {
		n, err := s.copyChunks.Read(p)
		if err != io.EOF {
			return n, err
		}
		if s.done {
			return n, io.EOF
		}
		if s.recycle && s.sending != nil {
			recycleRaw(s.sending) // its bytes are in p, or sent
		}
		s.sending = nil
		b, err := nextRaw(s.next)
		if err == nil && b != nil {
			err = s.check(b)
		}
		if err != nil {
			s.err = err
			return n, err
		}
		if b == nil {
			s.done = true
			s.copyChunks = copyChunks{bufs: [][]byte{rawTrailer}}
		} else {
			s.copyChunks = copyChunks{bufs: [][]byte{b.Data}}
			s.sending = b.Data
		}
		if n > 0 {
			return n, nil
		}
	}
}

// copyChunks is a COPY stream in parts (the header, raw batches, the
// trailer); as an io.Reader it reads them in order, each Read filling as
// much of p as the parts allow.
type copyChunks struct {
	bufs [][]byte
	i    int
	off  int
}

func (c *copyChunks) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && c.i < len(c.bufs) {
		k := copy(p[n:], c.bufs[c.i][c.off:])
		n, c.off = n+k, c.off+k
		if c.off == len(c.bufs[c.i]) {
			c.i, c.off = c.i+1, 0
		}
	}
	if c.i == len(c.bufs) {
		return n, io.EOF
	}
	return n, nil
}
