package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

const (
	// cdcStatusInterval is how often a stream reports its position to the
	// server, or a quarter of wal_sender_timeout if that is shorter; it
	// also answers at once when the server asks.
	cdcStatusInterval = 10 * time.Second
	// cdcConfirmGap is the least time between status updates Confirm
	// causes.
	cdcConfirmGap = 50 * time.Millisecond
	// cdcQueue is how many decoded transactions may wait for fn.
	cdcQueue = 64
	// cdcStartWait bounds how long Stream waits for a slot still held by
	// the walsender of an earlier stream.
	cdcStartWait = 15 * time.Second
	// heartbeatPrefix is the prefix of the logical messages heartbeats emit.
	heartbeatPrefix = "godwit-heartbeat"
)

// cdcState is a connector's change capture state: the slot it works on,
// the highest position given to Confirm for it, and the running stream.
type cdcState struct {
	mu        sync.Mutex
	slot      string
	confirmed pglogrepl.LSN
	stream    *cdcStream
}

// use makes slot the connector's slot; a new slot starts unconfirmed.
func (s *cdcState) use(slot string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slot != slot {
		s.slot, s.confirmed = slot, 0
	}
}

// forget clears what is known of a dropped slot.
func (s *cdcState) forget(slot string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slot == slot {
		s.slot, s.confirmed = "", 0
	}
}

func (s *cdcState) attach(st *cdcStream) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stream != nil {
		return fmt.Errorf("%w: a stream from replication slot %s is already running on this connector", ErrBadCDCRequest, s.stream.slot)
	}
	if s.slot != st.slot {
		s.slot, s.confirmed = st.slot, 0
	}
	s.stream = st
	return nil
}

func (s *cdcState) detach(st *cdcStream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stream == st {
		s.stream = nil
	}
}

// confirmedFor is the highest position confirmed for slot.
func (s *cdcState) confirmedFor(slot string) pglogrepl.LSN {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slot != slot {
		return 0
	}
	return s.confirmed
}

// Confirm records that everything up to pos is applied. A running stream
// reports it to the server at once (as its flushed position, which is what
// moves the slot's confirmed_flush_lsn); without one, the slot is advanced
// with pg_replication_slot_advance unless another process holds it, in
// which case the next Stream on this connector reports it. A position
// below one already confirmed changes nothing.
func (c *Conn) Confirm(ctx context.Context, pos string) error {
	lsn, err := cdcParseLSN(pos)
	if err != nil || lsn == 0 {
		return err
	}
	c.cdc.mu.Lock()
	if c.cdc.slot == "" && cdcValidSlot(c.cfg.SlotName) {
		c.cdc.slot = c.cfg.SlotName
	}
	slot := c.cdc.slot
	if lsn > c.cdc.confirmed {
		c.cdc.confirmed = lsn
	}
	st := c.cdc.stream
	c.cdc.mu.Unlock()
	if st != nil {
		st.poke()
		return nil
	}
	if slot == "" {
		return fmt.Errorf("%w: Confirm needs the slot of a BeginCDC or Stream on this connector", ErrBadCDCRequest)
	}
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	_, err = pg.Exec(ctx, `
SELECT pg_catalog.pg_replication_slot_advance(slot_name, $2::text::pg_lsn)
FROM pg_catalog.pg_replication_slots
WHERE slot_name = $1 AND NOT active AND confirmed_flush_lsn < $2::text::pg_lsn`, slot, lsn.String())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == cdcStateObjectInUse {
		return nil // taken by a stream since; the next status update carries it
	}
	return classify(ctx, pg, "confirming position "+lsn.String()+" to replication slot "+slot, err)
}

// cdcStream is one running Stream. A receiver goroutine owns the
// replication connection: it decodes messages into transactions, queues
// them for fn, and sends the status updates; Stream's goroutine calls fn.
type cdcStream struct {
	c    *Conn
	req  *connector.CDCRequest
	slot string
	pc   *pgconn.PgConn
	dec  *cdcDecoder
	out  chan *record.Transaction
	wake chan struct{} // Confirm asks for a status update

	mu     sync.Mutex // guards pc and closed against poke
	closed bool

	// Receiver state.
	slotConfirmed pglogrepl.LSN // the slot's confirmed_flush_lsn when the stream started
	statusEvery   time.Duration // how often to send status updates
	deadline      time.Time     // the read deadline set on the connection
	received      pglogrepl.LSN // highest position seen: the write position reported
	tx            *record.Transaction
	lastChanges   int           // the changes of the last transaction, to size the next
	queued        pglogrepl.LSN // position of the last transaction queued
	progress      pglogrepl.LSN // outside transactions: where the server has sent everything up to
	progressTime  time.Time
	busy          bool // a transaction was queued since the last heartbeat tick
	beating       atomic.Bool
	beats         sync.WaitGroup
}

// Stream runs logical replication from slot req.SlotName (pgoutput,
// protocol version 1, publication req.Publication) from position from and
// hands fn one record.Transaction per committed transaction that changed
// tables of req.Tables, in commit order: ID is the xid, CommitTime the
// commit's (UTC), Position the commit's end LSN, so that streaming from it
// starts with the next transaction. Transactions without such changes are
// not delivered, except as heartbeats (see below). fn may keep what it is
// given.
//
// Each change's Table is the task's table (req.Tables) while its columns
// are those the server describes; after DDL changed them, a new
// record.Table with the same Schema and Name and the columns as they are
// now. Before and After follow the Table's columns:
//
//   - After: the new row; an unchanged TOASTed value (a large value an
//     update did not touch) and a generated column are record.Unchanged.
//   - Before (updates, deletes): with the default replica identity, the
//     primary key columns of the old row and nil elsewhere (taken from the
//     new row when an update left the key alone); with REPLICA IDENTITY
//     USING INDEX, that index's columns; with REPLICA IDENTITY FULL, the
//     whole old row, BeforeFull set. A table with no replica identity (no
//     primary key, not FULL) cannot be updated or deleted from at all
//     while it is in the publication: PostgreSQL refuses with SQLSTATE
//     55000, so such tables need REPLICA IDENTITY FULL before CDC starts.
//   - A TRUNCATE is one OpTruncate change per captured table it emptied.
//
// The server is told as flushed only what Confirm was given (never more),
// so a transaction fn has returned for is sent again by a later Stream
// until it is confirmed. Status updates go out every 10 s (or a quarter of
// wal_sender_timeout), at once when the server asks, and on Confirm.
//
// With req.HeartbeatInterval, on every tick of that interval in which no
// transaction was delivered the stream (1) emits a non-transactional
// logical message with prefix "godwit-heartbeat" and no content
// (pg_logical_emit_message) on a data session, so that an idle database
// still writes WAL, and (2) if the server has since sent everything up to a
// later position (its keepalives, or transactions that changed no captured
// table), delivers a Transaction with that Position, no ID and no Changes.
// Confirming it moves the slot past WAL the task does not need, which an
// idle slot otherwise keeps on the server.
//
// Stream returns nil when ctx ends, fn's error when fn fails, and otherwise
// an error, wrapping ErrConnectionLost when a new Stream from the last
// confirmed position may succeed (network, server restart, walsender
// terminated, slot briefly held by an ending stream). Before returning, it
// ends replication so that the slot is free for the next Stream.
func (c *Conn) Stream(ctx context.Context, req *connector.CDCRequest, from string, fn func(tx *record.Transaction) error) error {
	if err := checkCDCRequest(req); err != nil {
		return err
	}
	start, err := cdcParseLSN(from)
	if err != nil {
		return err
	}
	st := &cdcStream{
		c: c, req: req, slot: req.SlotName,
		dec:  newCDCDecoder(c, req.Tables, req.DDLSchema),
		out:  make(chan *record.Transaction, cdcQueue),
		wake: make(chan struct{}, 1),
	}
	if err := c.cdc.attach(st); err != nil {
		return err
	}
	defer c.cdc.detach(st)
	if err := st.start(ctx, start); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	st.queued = max(start, st.slotConfirmed)
	return st.run(ctx, fn)
}

// start opens the replication connection and starts streaming. A slot
// still held by another walsender (typically the previous stream's, which
// the server has not ended yet) is waited for.
func (st *cdcStream) start(ctx context.Context, from pglogrepl.LSN) error {
	doing := "starting replication from slot " + st.slot
	deadline := time.Now().Add(cdcStartWait)
	for {
		pc, err := cdcOpenReplication(ctx, st.c)
		if err != nil {
			return err
		}
		err = st.startOn(ctx, pc, from)
		if err == nil {
			st.mu.Lock()
			st.pc = pc
			st.mu.Unlock()
			return nil
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != cdcStateObjectInUse {
			err = cdcError(ctx, pc, doing, err)
			cdcCloseReplication(pc)
			return err
		}
		cdcCloseReplication(pc)
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w: the slot is in use by another process: %w", doing, ErrConnectionLost, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (st *cdcStream) startOn(ctx context.Context, pc *pgconn.PgConn, from pglogrepl.LSN) error {
	// Replication connections run simple queries only: the slot name is
	// validated, so it can be inlined.
	res, err := pc.Exec(ctx, `SELECT confirmed_flush_lsn::text, plugin, coalesce(database = current_database(), false),
	(SELECT setting FROM pg_catalog.pg_settings WHERE name = 'wal_sender_timeout')
FROM pg_catalog.pg_replication_slots WHERE slot_name = '`+st.slot+`'`).ReadAll()
	if err != nil {
		return err
	}
	if len(res) != 1 || len(res[0].Rows) == 0 {
		return fmt.Errorf("%w: %q: create it with BeginCDC (a new slot starts from now: changes made since the last confirmed position are lost)", ErrNoSlot, st.slot)
	}
	row := res[0].Rows[0]
	if len(row) != 4 {
		return fmt.Errorf("%w: pg_replication_slots row of %d columns", ErrReplicationProtocol, len(row))
	}
	if string(row[2]) != "t" {
		return fmt.Errorf("%w: replication slot %q is not a logical slot of this endpoint's database", ErrBadCDCRequest, st.slot)
	}
	if string(row[1]) != "pgoutput" {
		return fmt.Errorf("%w: replication slot %q uses plugin %q; this connector needs a pgoutput slot", ErrBadCDCRequest, st.slot, row[1])
	}
	if row[0] != nil {
		if st.slotConfirmed, err = cdcParseLSN(string(row[0])); err != nil {
			return err
		}
	}
	st.statusEvery = cdcStatusInterval
	if ms, err := strconv.Atoi(string(row[3])); err == nil && ms > 0 {
		st.statusEvery = min(st.statusEvery, max(time.Duration(ms)*time.Millisecond/4, 100*time.Millisecond))
	}
	pub := quoteIdent(st.req.Publication)
	return pglogrepl.StartReplication(ctx, pc, st.slot, from, pglogrepl.StartReplicationOptions{
		Mode:       pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '1'", "publication_names '" + strings.ReplaceAll(pub, "'", "''") + "'"},
	})
}

// run delivers what the receiver queues to fn until ctx ends, fn fails or
// the receiver stops, then ends replication.
func (st *cdcStream) run(ctx context.Context, fn func(tx *record.Transaction) error) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(rctx, st.interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		err := st.receive(rctx)
		close(st.out)
		errc <- err
	}()
	var fnErr error
	for tx := range st.out {
		if fnErr != nil {
			continue
		}
		if err := fn(tx); err != nil {
			fnErr = err
			cancel()
		}
	}
	rerr := <-errc
	st.beats.Wait()
	st.finish()
	switch {
	case fnErr != nil:
		return fnErr
	case ctx.Err() != nil || rerr == nil:
		return nil
	}
	return cdcError(ctx, st.pc, "streaming from replication slot "+st.slot, rerr)
}

// poke asks the receiver for a status update. One already asked for and
// not yet taken carries the new position too: it is read when sent.
func (st *cdcStream) poke() {
	select {
	case st.wake <- struct{}{}:
		st.interrupt()
	default:
	}
}

// interrupt ends the receiver's wait for the next message.
func (st *cdcStream) interrupt() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.closed && st.pc != nil {
		_ = st.pc.Conn().SetReadDeadline(time.Unix(1, 0))
	}
}

// finish reports the confirmed position a last time and ends replication
// (CopyDone), so that the walsender lets the slot go before Stream returns,
// then closes the connection.
func (st *cdcStream) finish() {
	st.mu.Lock()
	st.closed = true
	st.mu.Unlock()
	pc := st.pc
	if pc.IsClosed() {
		return
	}
	defer cdcCloseReplication(pc)
	if err := pc.Conn().SetReadDeadline(time.Time{}); err != nil {
		return
	}
	if err := st.sendStatus(); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pc.Frontend().Send(&pgproto3.CopyDone{})
	if err := pc.Frontend().Flush(); err != nil {
		return
	}
	for {
		msg, err := pc.ReceiveMessage(ctx)
		if err != nil {
			return
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return
		}
	}
}

// receive reads the replication stream until ctx ends (nil) or it fails.
func (st *cdcStream) receive(ctx context.Context) error {
	hb := st.req.HeartbeatInterval
	now := time.Now()
	nextStatus := now // report the confirmed position at once
	var nextBeat time.Time
	if hb > 0 {
		nextBeat = now.Add(hb)
	}
	var lastStatus time.Time
	for {
		now = time.Now()
		if !now.Before(nextStatus) {
			if err := st.sendStatus(); err != nil {
				return err
			}
			lastStatus, nextStatus = now, now.Add(st.statusEvery)
		}
		if hb > 0 && !now.Before(nextBeat) {
			if err := st.beat(ctx); err != nil {
				return cdcStopped(ctx, err)
			}
			nextBeat = now.Add(hb)
		}
		wait := nextStatus
		if hb > 0 && nextBeat.Before(wait) {
			wait = nextBeat
		}
		if !wait.Equal(st.deadline) {
			if err := st.pc.Conn().SetReadDeadline(wait); err != nil {
				return err
			}
			st.deadline = wait
		}
		// Checked after the deadline is set: a poke or cancellation from
		// now on interrupts the read below.
		select {
		case <-st.wake:
			// Confirmed positions go out at once, but at most every
			// cdcConfirmGap however often Confirm is called.
			if soon := lastStatus.Add(cdcConfirmGap); soon.Before(nextStatus) {
				nextStatus = soon
			}
			continue
		default:
		}
		if ctx.Err() != nil {
			return nil
		}
		msg, err := st.pc.ReceiveMessage(context.Background())
		if err != nil {
			if pgconn.Timeout(err) && !st.pc.IsClosed() {
				st.deadline = time.Time{} // set it again: an interrupt moved it
				continue
			}
			return cdcStopped(ctx, err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			reply, err := st.copyData(ctx, m.Data)
			if err != nil {
				return cdcStopped(ctx, err)
			}
			if reply {
				nextStatus = now
			}
		case *pgproto3.ErrorResponse:
			return pgconn.ErrorResponseToPgError(m)
		case *pgproto3.CopyDone:
			return fmt.Errorf("%w: the server ended the replication stream", ErrConnectionLost)
		}
	}
}

// cdcStopped is nil when ctx ended (the error is its consequence), else err.
func cdcStopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// copyData handles one message of the stream; reply says the server asked
// for a status update.
func (st *cdcStream) copyData(ctx context.Context, data []byte) (reply bool, err error) {
	if len(data) == 0 {
		return false, fmt.Errorf("%w: empty CopyData", ErrReplicationProtocol)
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return false, fmt.Errorf("%w: %v", ErrReplicationProtocol, err)
		}
		st.received = max(st.received, ka.ServerWALEnd)
		// Outside a transaction, the server has sent every transaction
		// that committed before ServerWALEnd.
		if st.tx == nil && ka.ServerWALEnd > st.progress {
			st.progress, st.progressTime = ka.ServerWALEnd, ka.ServerTime.UTC()
		}
		return ka.ReplyRequested, nil
	case pglogrepl.XLogDataByteID:
		xld, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return false, fmt.Errorf("%w: %v", ErrReplicationProtocol, err)
		}
		st.received = max(st.received, xld.WALStart)
		return false, st.logical(ctx, xld.WALData)
	}
	return false, nil
}

// logical handles one pgoutput message.
func (st *cdcStream) logical(ctx context.Context, data []byte) error {
	if len(data) > 0 {
		switch data[0] {
		case 'I', 'U', 'D', 'T':
			if st.tx == nil {
				return fmt.Errorf("%w: a %q message outside a transaction", ErrReplicationProtocol, data[0])
			}
			var err error
			st.tx.Changes, err = st.dec.changes(st.tx.Changes, data)
			return err
		}
	}
	msg, err := cdcParse(data)
	if err != nil {
		return err
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		return st.dec.relation(ctx, m)
	case *pglogrepl.BeginMessage:
		if st.tx != nil {
			return fmt.Errorf("%w: BEGIN inside transaction %s", ErrReplicationProtocol, st.tx.ID)
		}
		// Sized like the last transaction: most of a stream's are alike.
		st.tx = &record.Transaction{ID: strconv.FormatUint(uint64(m.Xid), 10), CommitTime: m.CommitTime.UTC(),
			Changes: make([]record.Change, 0, min(max(st.lastChanges, 1), 1024))}
	case *pglogrepl.CommitMessage:
		tx := st.tx
		if tx == nil {
			return fmt.Errorf("%w: COMMIT outside a transaction", ErrReplicationProtocol)
		}
		st.tx = nil
		st.lastChanges = len(tx.Changes)
		end := m.TransactionEndLSN
		st.received = max(st.received, end)
		if len(tx.Changes) == 0 {
			if end > st.progress {
				st.progress, st.progressTime = end, m.CommitTime.UTC()
			}
			return nil
		}
		tx.Position, tx.CommitTime = end.String(), m.CommitTime.UTC()
		st.busy = true
		return st.queue(ctx, tx, end)
	}
	// Type, Origin and logical decoding messages carry nothing to deliver.
	return nil
}

// queue hands tx to the delivering goroutine. While fn is behind, status
// updates keep going out, so that the server does not time the stream out.
func (st *cdcStream) queue(ctx context.Context, tx *record.Transaction, pos pglogrepl.LSN) error {
	select {
	case st.out <- tx:
		st.queued = max(st.queued, pos)
		return nil
	default:
	}
	tick := time.NewTicker(st.statusEvery)
	defer tick.Stop()
	for {
		select {
		case st.out <- tx:
			st.queued = max(st.queued, pos)
			return nil
		case <-st.wake:
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := st.sendStatus(); err != nil {
			return err
		}
	}
}

// beat runs a heartbeat tick: on an idle stream, emit a heartbeat message and
// deliver the position the server has sent everything up to.
func (st *cdcStream) beat(ctx context.Context) error {
	idle := !st.busy
	st.busy = false
	if !idle {
		return nil
	}
	if st.beating.CompareAndSwap(false, true) {
		st.beats.Add(1)
		go func() {
			defer st.beats.Done()
			defer st.beating.Store(false)
			st.c.emitHeartbeat(ctx, st.req.HeartbeatInterval)
		}()
	}
	if st.progress <= st.queued {
		return nil
	}
	return st.queue(ctx, &record.Transaction{Position: st.progress.String(), CommitTime: st.progressTime}, st.progress)
}

// emitHeartbeat writes a logical message into the WAL. A failure (no
// permission, server busy) is ignored: the next tick tries again, and the
// stream's own errors surface on the replication connection.
func (c *Conn) emitHeartbeat(ctx context.Context, within time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, max(within, 5*time.Second))
	defer cancel()
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return
	}
	_, err = pg.Exec(ctx, "SELECT pg_catalog.pg_logical_emit_message(false, $1::text, ''::text)", heartbeatPrefix)
	if err != nil && ctx.Err() != nil {
		// A cancel request may still reach the server: discard the session.
		closeQuietly(pg)
	}
	c.data.release(pg)
}

// sendStatus reports the received position as written and the confirmed
// one as flushed and applied.
func (st *cdcStream) sendStatus() error {
	flush := max(st.slotConfirmed, st.c.cdc.confirmedFor(st.slot))
	if st.tx == nil && flush >= st.queued && st.progress > flush {
		// Everything delivered is confirmed, and the server has sent all
		// that committed up to progress: the WAL in between (skipped
		// tables, checkpoints, a shutdown record) is done with too. Without
		// this a fast shutdown of the source waits for us forever.
		flush = st.progress
	}
	write := max(st.received, flush)
	if flush == 0 {
		// Zero tells the server nothing; SendStandbyStatusUpdate would
		// report the write position as flushed instead.
		write = 0
	}
	return pglogrepl.SendStandbyStatusUpdate(context.Background(), st.pc, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: write,
		WALFlushPosition: flush,
		WALApplyPosition: flush,
	})
}
