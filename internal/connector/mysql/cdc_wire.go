package mysql

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// The binary log is read over a connection of its own that speaks the
// MySQL client/server protocol directly: go-sql-driver has no replication
// commands. It needs only the handshake (TLS, authentication), COM_QUERY
// for SET statements, and COM_BINLOG_DUMP.

// Capability flags of the handshake.
const (
	clientCapLongPassword     = 0x00000001
	clientCapLongFlag         = 0x00000004
	clientCapProtocol41       = 0x00000200
	clientCapSSL              = 0x00000800
	clientCapTransactions     = 0x00002000
	clientCapSecureConnection = 0x00008000
	clientCapPluginAuth       = 0x00080000
	clientCapPluginAuthLenenc = 0x00200000
)

// Commands.
const (
	comQuery      = 0x03
	comBinlogDump = 0x12
)

const (
	maxWirePayload     = 1<<24 - 1
	utf8mb4GeneralCI   = 45
	clientMaxPacket    = 1 << 30
	wireConnectTimeout = 30 * time.Second
)

// wireConn is one client connection of the MySQL protocol.
type wireConn struct {
	nc      net.Conn
	br      *bufio.Reader
	seq     uint8
	buf     []byte // payload of the last packet read
	hdr     [4]byte
	tls     bool
	timeout time.Duration // bound on reading one packet; 0 = none

	serverVersion string
	connID        uint32
}

// wireErrPacket is a server ERR packet as go-sql-driver reports it, so that
// errIsMySQL and mysqlErrorNumber apply.
func wireErrPacket(p []byte) error {
	if len(p) < 3 {
		return &gomysql.MySQLError{Number: 0, Message: "malformed error packet"}
	}
	me := &gomysql.MySQLError{Number: binary.LittleEndian.Uint16(p[1:3])}
	rest := p[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		copy(me.SQLState[:], rest[1:6])
		rest = rest[6:]
	}
	me.Message = string(rest)
	return me
}

// dialWire connects and logs in as cfg's user, with TLS per cfg.SSLMode.
func dialWire(ctx context.Context, cfg Config, dialer netcheck.Dialer) (*wireConn, error) {
	tlsCfg, err := netcheck.TLSConfig(cfg.SSLMode, cfg.CACertPEM, cfg.Host)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, wireConnectTimeout)
	defer cancel()
	nc, err := dialer.DialContext(dctx, "tcp", cfg.Addr())
	if err != nil {
		return nil, err
	}
	w := &wireConn{nc: nc}
	w.br = bufio.NewReaderSize(deadlineReader{w}, 256<<10)
	stop := context.AfterFunc(dctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	err = w.login(dctx, cfg, tlsCfg)
	if !stop() || dctx.Err() != nil {
		err = errors.Join(dctx.Err(), err)
	}
	if err != nil {
		w.nc.Close()
		return nil, err
	}
	w.nc.SetDeadline(time.Time{})
	return w, nil
}

func (w *wireConn) close() error { return w.nc.Close() }

// deadlineReader reads the connection with a fresh deadline of w.timeout
// on each read: a connection that sends nothing for that long is dead.
type deadlineReader struct{ w *wireConn }

func (d deadlineReader) Read(p []byte) (int, error) {
	if d.w.timeout > 0 {
		d.w.nc.SetReadDeadline(time.Now().Add(d.w.timeout))
	}
	return d.w.nc.Read(p)
}

// readPacket reads one logical packet (joining the 16 MB pieces of a
// larger one). The payload is valid until the next read.
func (w *wireConn) readPacket() ([]byte, error) {
	if cap(w.buf) > 64<<20 { // do not keep the buffer of a huge event
		w.buf = nil
	}
	w.buf = w.buf[:0]
	for {
		if _, err := io.ReadFull(w.br, w.hdr[:]); err != nil {
			return nil, err
		}
		n := int(w.hdr[0]) | int(w.hdr[1])<<8 | int(w.hdr[2])<<16
		if w.hdr[3] != w.seq {
			return nil, fmt.Errorf("packet out of order: sequence %d, expected %d", w.hdr[3], w.seq)
		}
		w.seq++
		start := len(w.buf)
		if cap(w.buf)-start < n {
			nb := make([]byte, start, start+n+start/4)
			copy(nb, w.buf)
			w.buf = nb
		}
		w.buf = w.buf[:start+n]
		if _, err := io.ReadFull(w.br, w.buf[start:]); err != nil {
			return nil, err
		}
		if n < maxWirePayload {
			return w.buf, nil
		}
	}
}

// writePacket sends payload, split into 16 MB pieces when longer.
func (w *wireConn) writePacket(payload []byte) error {
	for {
		n := min(len(payload), maxWirePayload)
		pkt := make([]byte, 4+n)
		pkt[0], pkt[1], pkt[2], pkt[3] = byte(n), byte(n>>8), byte(n>>16), w.seq
		copy(pkt[4:], payload[:n])
		w.seq++
		if _, err := w.nc.Write(pkt); err != nil {
			return err
		}
		payload = payload[n:]
		if n < maxWirePayload {
			return nil
		}
	}
}

// command starts a new command exchange.
func (w *wireConn) command(cmd byte, arg []byte) error {
	w.seq = 0
	return w.writePacket(append([]byte{cmd}, arg...))
}

// exec runs a statement that returns no rows (SET ...).
func (w *wireConn) exec(q string) error {
	if err := w.command(comQuery, []byte(q)); err != nil {
		return err
	}
	p, err := w.readPacket()
	if err != nil {
		return err
	}
	switch {
	case len(p) > 0 && p[0] == 0x00:
		return nil
	case len(p) > 0 && p[0] == 0xff:
		return wireErrPacket(p)
	}
	return fmt.Errorf("%s: the server returned rows", q)
}

// wireHandshake is the server's initial handshake packet.
type wireHandshake struct {
	caps     uint32
	scramble []byte
	plugin   string
}

func parseWireHandshake(p []byte) (*wireHandshake, string, uint32, error) {
	if len(p) == 0 {
		return nil, "", 0, errors.New("empty handshake")
	}
	if p[0] == 0xff {
		return nil, "", 0, wireErrPacket(p)
	}
	if p[0] != 10 {
		return nil, "", 0, fmt.Errorf("unsupported protocol version %d: not a MySQL server?", p[0])
	}
	r := wireReader{b: p[1:]}
	version := r.cstring()
	connID := r.uint32()
	part1 := r.bytes(8)
	r.skip(1)
	h := &wireHandshake{caps: uint32(r.uint16())}
	if r.err != nil {
		return nil, "", 0, errors.New("malformed handshake")
	}
	h.scramble = append([]byte(nil), part1...)
	if r.len() > 0 {
		r.skip(1) // character set
		r.skip(2) // status
		h.caps |= uint32(r.uint16()) << 16
		authLen := int(r.uint8())
		r.skip(10)
		if h.caps&clientCapSecureConnection != 0 {
			n := max(13, authLen-8)
			part2 := r.bytes(min(n, r.len()))
			// The second part ends with a NUL that is not scramble.
			if len(part2) > 0 && part2[len(part2)-1] == 0 {
				part2 = part2[:len(part2)-1]
			}
			h.scramble = append(h.scramble, part2...)
		}
		if h.caps&clientCapPluginAuth != 0 {
			h.plugin = r.cstringOrRest()
		}
	}
	if r.err != nil {
		return nil, "", 0, errors.New("malformed handshake")
	}
	return h, version, connID, nil
}

// login runs the handshake: TLS when asked, then authentication.
func (w *wireConn) login(ctx context.Context, cfg Config, tlsCfg *tls.Config) error {
	p, err := w.readPacket()
	if err != nil {
		return err
	}
	h, version, connID, err := parseWireHandshake(p)
	if err != nil {
		return err
	}
	w.serverVersion, w.connID = version, connID
	if h.caps&clientCapProtocol41 == 0 || h.caps&clientCapSecureConnection == 0 {
		return fmt.Errorf("the server at %s (%s) is too old for binary log streaming", cfg.Addr(), version)
	}
	caps := uint32(clientCapLongPassword|clientCapLongFlag|clientCapProtocol41|clientCapTransactions|clientCapSecureConnection|clientCapPluginAuth|clientCapPluginAuthLenenc) & h.caps
	if tlsCfg != nil {
		if h.caps&clientCapSSL == 0 {
			return netcheck.NoServerTLSError(cfg.Addr(), cfg.SSLMode)
		}
		caps |= clientCapSSL
		req := make([]byte, 32)
		binary.LittleEndian.PutUint32(req, caps)
		binary.LittleEndian.PutUint32(req[4:], clientMaxPacket)
		req[8] = utf8mb4GeneralCI
		if err := w.writePacket(req); err != nil {
			return err
		}
		tc, err := netcheck.Handshake(ctx, w.nc, tlsCfg, cfg.Addr(), cfg.SSLMode, len(cfg.CACertPEM) > 0)
		if err != nil {
			return err
		}
		w.nc, w.tls = tc, true
		w.br = bufio.NewReaderSize(deadlineReader{w}, 256<<10)
	}
	plugin := h.plugin
	if plugin == "" {
		plugin = pluginNative
	}
	auth, err := authResponse(plugin, []byte(cfg.Password), h.scramble, w.tls)
	if errors.Is(err, errUnknownPlugin) {
		// Offer the native method: the server switches us to the one the
		// account uses.
		plugin = pluginNative
		auth, err = authResponse(plugin, []byte(cfg.Password), h.scramble, w.tls)
	}
	if err != nil {
		return err
	}
	resp := make([]byte, 32, 64+len(cfg.User)+len(auth)+len(plugin))
	binary.LittleEndian.PutUint32(resp, caps)
	binary.LittleEndian.PutUint32(resp[4:], clientMaxPacket)
	resp[8] = utf8mb4GeneralCI
	resp = append(resp, cfg.User...)
	resp = append(resp, 0)
	if caps&clientCapPluginAuthLenenc != 0 {
		resp = appendLenenc(resp, uint64(len(auth)))
	} else {
		if len(auth) > 255 {
			return errors.New("authentication response too long")
		}
		resp = append(resp, byte(len(auth)))
	}
	resp = append(resp, auth...)
	resp = append(resp, plugin...)
	resp = append(resp, 0)
	if err := w.writePacket(resp); err != nil {
		return err
	}
	return w.authenticate(cfg, plugin, h.scramble)
}

// authenticate follows the server's answers to the handshake response:
// OK, an error, a switch to another method, or more data of the method.
func (w *wireConn) authenticate(cfg Config, plugin string, scramble []byte) error {
	password := []byte(cfg.Password)
	askedKey := false
	for {
		p, err := w.readPacket()
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return errors.New("empty authentication packet")
		}
		switch p[0] {
		case 0x00:
			return nil
		case 0xff:
			return wireErrPacket(p)
		case 0xfe: // switch to another method
			if len(p) == 1 {
				return fmt.Errorf("user %q uses the pre-4.1 password hash, which is not supported", cfg.User)
			}
			r := wireReader{b: p[1:]}
			plugin = r.cstringOrRest()
			scramble = append([]byte(nil), r.rest()...)
			if n := len(scramble); n > 0 && scramble[n-1] == 0 {
				scramble = scramble[:n-1]
			}
			auth, err := authResponse(plugin, password, scramble, w.tls)
			if err != nil {
				return err
			}
			askedKey = false
			if err := w.writePacket(auth); err != nil {
				return err
			}
		case 0x01: // more data of the current method
			data := p[1:]
			switch plugin {
			case pluginCachingSHA2:
				if !askedKey && len(data) == 1 && data[0] == 3 { // fast authentication succeeded
					continue
				}
				if !askedKey && len(data) == 1 && data[0] == 4 { // full authentication
					if w.tls {
						if err := w.writePacket(append(append([]byte(nil), password...), 0)); err != nil {
							return err
						}
						continue
					}
					askedKey = true
					if err := w.writePacket([]byte{2}); err != nil {
						return err
					}
					continue
				}
				fallthrough
			case pluginSHA256:
				enc, err := encryptPassword(password, scramble, data)
				if err != nil {
					return err
				}
				if err := w.writePacket(enc); err != nil {
					return err
				}
			default:
				return fmt.Errorf("unexpected authentication data for method %s", plugin)
			}
		default:
			return fmt.Errorf("unexpected authentication packet 0x%02x", p[0])
		}
	}
}

// binlogDump asks for the binary log from file:pos.
func (w *wireConn) binlogDump(file string, pos uint32, serverID uint32) error {
	arg := make([]byte, 10, 10+len(file))
	binary.LittleEndian.PutUint32(arg, pos)
	binary.LittleEndian.PutUint16(arg[4:], 0) // blocking: wait for new events
	binary.LittleEndian.PutUint32(arg[6:], serverID)
	arg = append(arg, file...)
	return w.command(comBinlogDump, arg)
}

// wireReader reads protocol fields from a byte slice; the first overrun sets
// err and every later read returns zero values.
type wireReader struct {
	b   []byte
	err error
}

var errWireShort = errors.New("truncated packet")

func (r *wireReader) len() int { return len(r.b) }

func (r *wireReader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n > len(r.b) || n < 0 {
		r.err = errWireShort
		r.b = nil
		return false
	}
	return true
}

func (r *wireReader) skip(n int) {
	if r.need(n) {
		r.b = r.b[n:]
	}
}

func (r *wireReader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *wireReader) rest() []byte {
	v := r.b
	r.b = nil
	return v
}

func (r *wireReader) uint8() uint8 {
	if !r.need(1) {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *wireReader) uint16() uint16 {
	if !r.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *wireReader) uint32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *wireReader) uint48() uint64 {
	if !r.need(6) {
		return 0
	}
	v := uint64(binary.LittleEndian.Uint32(r.b)) | uint64(binary.LittleEndian.Uint16(r.b[4:]))<<32
	r.b = r.b[6:]
	return v
}

func (r *wireReader) uint64() uint64 {
	if !r.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// lenenc reads a length-encoded integer.
func (r *wireReader) lenenc() uint64 {
	switch b := r.uint8(); {
	case b < 0xfb:
		return uint64(b)
	case b == 0xfc:
		return uint64(r.uint16())
	case b == 0xfd:
		if !r.need(3) {
			return 0
		}
		v := uint64(r.b[0]) | uint64(r.b[1])<<8 | uint64(r.b[2])<<16
		r.b = r.b[3:]
		return v
	case b == 0xfe:
		return r.uint64()
	default:
		if r.err == nil {
			r.err = errors.New("invalid length-encoded integer")
		}
		return 0
	}
}

func (r *wireReader) lenencBytes() []byte {
	n := r.lenenc()
	if n > uint64(len(r.b)) {
		r.need(len(r.b) + 1)
		return nil
	}
	return r.bytes(int(n))
}

// cstring reads a NUL-terminated string.
func (r *wireReader) cstring() string {
	if r.err != nil {
		return ""
	}
	for i, c := range r.b {
		if c == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	r.err = errWireShort
	r.b = nil
	return ""
}

// cstringOrRest reads a NUL-terminated string, or the rest when no NUL
// ends it (some servers omit it at the end of a packet).
func (r *wireReader) cstringOrRest() string {
	for i, c := range r.b {
		if c == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	return string(r.rest())
}

func appendLenenc(b []byte, n uint64) []byte {
	switch {
	case n < 0xfb:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 0xfc, byte(n), byte(n>>8))
	case n <= 0xffffff:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xfe), n)
}
