// Package netcheck runs the network layers of an endpoint connection check —
// resolving the host name, opening the TCP connection and negotiating TLS —
// and turns their failures into *connector.CheckError values that say which
// layer failed and what to do about it. The database connectors plug its
// Dialer into their drivers, so the connection they use is the one that was
// checked.
//
// Failures are classified with errors.As / errors.Is on the typed errors of
// the net, syscall, crypto/tls and crypto/x509 packages, never by matching
// error text.
package netcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
)

// Dialer resolves host names and opens TCP connections, reporting failures
// as *connector.CheckError with StageDNS or StageTCP. The zero value is ready
// to use.
type Dialer struct {
	// Resolver looks host names up; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// KeepAlive is the TCP keep-alive period; 0 means the net package default.
	KeepAlive time.Duration
	// Source says, in messages, where the host and port come from; empty
	// means the endpoint's ServerName and Port.
	Source string
}

func (d Dialer) nameSource() string {
	if d.Source != "" {
		return d.Source
	}
	return "the endpoint's ServerName"
}

func (d Dialer) portSource() string {
	if d.Source != "" {
		return d.Source
	}
	return "the endpoint's Port"
}

func (d Dialer) resolver() *net.Resolver {
	if d.Resolver != nil {
		return d.Resolver
	}
	return net.DefaultResolver
}

// LookupHost resolves host to its addresses. An IP literal resolves to
// itself. The error is a *connector.CheckError with StageDNS.
func (d Dialer) LookupHost(ctx context.Context, host string) ([]string, error) {
	if host == "" {
		return nil, &connector.CheckError{Stage: connector.StageConfig, Message: "no server name is set: set the endpoint's ServerName", Err: ErrNoHost}
	}
	if ip := net.ParseIP(host); ip != nil {
		return []string{host}, nil
	}
	addrs, err := d.resolver().LookupHost(ctx, host)
	if err != nil {
		return nil, d.dnsError(ctx, host, err)
	}
	if len(addrs) == 0 {
		return nil, &connector.CheckError{
			Stage:   connector.StageDNS,
			Message: fmt.Sprintf("host name %q resolves to no addresses: check %s and its DNS records", host, d.nameSource()),
			Err:     ErrNoAddresses,
		}
	}
	return addrs, nil
}

// DialContext opens a connection to address ("host:port"). For TCP it
// resolves the host (StageDNS failures) and tries each of its addresses in
// turn (StageTCP failures, naming host:port). Its signature fits the dial
// hooks of pgconn and go-sql-driver/mysql.
func (d Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if network == "unix" {
		var nd net.Dialer
		c, err := nd.DialContext(ctx, network, address)
		if err != nil {
			return nil, d.tcpError(ctx, address, "", err)
		}
		return c, nil
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, &connector.CheckError{Stage: connector.StageConfig, Message: fmt.Sprintf("invalid server address %q", address), Err: err}
	}
	addrs, err := d.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	var first error
	for i, ip := range addrs {
		dctx := ctx
		cancel := context.CancelFunc(func() {})
		// Leave each remaining address a share of the time, as net.Dialer does.
		if deadline, ok := ctx.Deadline(); ok && len(addrs)-i > 1 {
			share := time.Until(deadline) / time.Duration(len(addrs)-i)
			if share > 0 {
				dctx, cancel = context.WithTimeout(ctx, share)
			}
		}
		nd := net.Dialer{KeepAlive: d.KeepAlive}
		c, err := nd.DialContext(dctx, tcpNetwork(network), net.JoinHostPort(ip, port))
		cancel()
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = d.tcpError(ctx, net.JoinHostPort(host, port), ipIfDifferent(ip, host), err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// Probe checks that host resolves and that a TCP connection to host:port
// can be opened, then closes it.
func (d Dialer) Probe(ctx context.Context, host string, port int) error {
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return c.Close()
}

func tcpNetwork(network string) string {
	switch network {
	case "tcp4", "tcp6":
		return network
	}
	return "tcp"
}

func ipIfDifferent(ip, host string) string {
	if ip == host {
		return ""
	}
	return ip
}

func (d Dialer) dnsError(ctx context.Context, host string, err error) *connector.CheckError {
	var de *net.DNSError
	isDNS := errors.As(err, &de)
	var msg string
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		msg = fmt.Sprintf("the DNS lookup of %q was canceled", host)
	case errors.Is(err, context.DeadlineExceeded) || (isDNS && de.IsTimeout):
		msg = fmt.Sprintf("the DNS lookup of %q timed out: check the DNS servers this server uses", host)
	case isDNS && de.IsNotFound:
		msg = fmt.Sprintf("host name %q does not resolve (no such host): check %s", host, d.nameSource())
	case isDNS && de.IsTemporary:
		msg = fmt.Sprintf("the DNS lookup of %q failed temporarily (%s): try again, or check the DNS servers this server uses", host, de.Err)
	default:
		msg = fmt.Sprintf("cannot resolve host name %q: %v", host, err)
	}
	return &connector.CheckError{Stage: connector.StageDNS, Message: msg, Err: err}
}

// tcpError classifies a failed dial to hostport (resolved to ip, if ip is
// not empty) by errno and timeout, not by text.
func (d Dialer) tcpError(ctx context.Context, hostport, ip string, err error) *connector.CheckError {
	where := hostport
	if ip != "" {
		where = fmt.Sprintf("%s (%s)", hostport, ip)
	}
	var ne net.Error
	var msg string
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		msg = fmt.Sprintf("the connection to %s was canceled", where)
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = fmt.Sprintf("connection refused by %s: nothing is listening on that port. Check %s, that the server is running, and that it listens on this address", where, d.portSource())
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, syscall.ETIMEDOUT) || (errors.As(err, &ne) && ne.Timeout()):
		msg = fmt.Sprintf("timed out connecting to %s: the server did not answer. Check the address and port, and that no firewall or security group drops the traffic", where)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTDOWN) || errors.Is(err, syscall.ENETDOWN):
		msg = fmt.Sprintf("no route to %s: the host or its network is unreachable from this server. Check the address and the network path (routes, VPC, VPN)", where)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED):
		msg = fmt.Sprintf("the connection to %s was reset while connecting: a firewall or proxy may be rejecting it", where)
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		msg = fmt.Sprintf("the connection to %s was blocked by a firewall rule on this server", where)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		msg = fmt.Sprintf("cannot connect to %s: the address is not available from this server", where)
	default:
		msg = fmt.Sprintf("cannot connect to %s: %v", where, err)
	}
	return &connector.CheckError{Stage: connector.StageTCP, Message: msg, Err: err}
}
