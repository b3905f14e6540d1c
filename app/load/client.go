package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// Client is a lean HTTP/1.1 GET client for load runs: keep-alive connections from a pool,
// requests written from prepared bytes and responses read with no more parsing than the status
// and the body's length. The generator runs on the machine it measures, so every microsecond
// it spends is one the server under test does not get: net/http's client costs several times
// this per request (as wrk, written in C, exists for the same reason).
type Client struct {
	addr, host string
	pool       chan *conn
	timeout    time.Duration
}

type conn struct {
	c net.Conn
	r *bufio.Reader
}

// NewClient makes a client of base (http://host:port) with up to conns connections.
func NewClient(base string, conns int) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("load: %q is not an http://host:port URL", base)
	}
	return &Client{addr: u.Host, host: u.Host, pool: make(chan *conn, conns), timeout: 10 * time.Second}, nil
}

// Get requests path and reads the whole response; a status other than 200 is an error.
func (c *Client) Get(path string) error {
	var cn *conn
	select {
	case cn = <-c.pool:
	default:
		nc, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return err
		}
		cn = &conn{c: nc, r: bufio.NewReaderSize(nc, 16<<10)}
	}
	status, keep, err := cn.roundTrip(c.host, path, c.timeout)
	if err != nil || !keep {
		cn.c.Close()
	} else {
		select {
		case c.pool <- cn:
		default:
			cn.c.Close()
		}
	}
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("GET %s: %d", path, status)
	}
	return nil
}

// Close closes the pooled connections.
func (c *Client) Close() {
	for {
		select {
		case cn := <-c.pool:
			cn.c.Close()
		default:
			return
		}
	}
}

var errMalformed = errors.New("load: malformed response")

func (cn *conn) roundTrip(host, path string, timeout time.Duration) (status int, keep bool, err error) {
	cn.c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(cn.c, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		return 0, false, err
	}
	line, err := cn.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errMalformed
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, errMalformed
	}
	length, chunked, keep := -1, false, true
	for {
		h, err := cn.r.ReadSlice('\n')
		if err != nil {
			return status, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return status, false, errMalformed
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		err = discardChunks(cn.r)
	case length >= 0:
		_, err = cn.r.Discard(length)
	default:
		return status, false, errMalformed // no length: the connection could not be reused
	}
	return status, keep && err == nil, err
}

// discardChunks reads a chunked body to its end.
func discardChunks(r *bufio.Reader) error {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil {
			return errMalformed
		}
		if _, err := r.Discard(int(n) + 2); err != nil { // the chunk and its CRLF
			return err
		}
		if n == 0 {
			return nil
		}
	}
}
