package deptdb

import (
	"bufio"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// flushingListener hands out connections whose writes are buffered until the server reads
// again. Vitess writes the prepare response one packet (one system call) per parameter; a
// 500-row INSERT of 10 columns has 5000 parameters. The MySQL protocol is request/response,
// so when the server reads, its response is complete and is flushed first.
type flushingListener struct {
	net.Listener
}

// Accept implements net.Listener.
func (l flushingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &flushingConn{Conn: c, w: bufio.NewWriterSize(c, 64<<10)}, nil
}

// flushingConn buffers writes and flushes them before every read and on close.
type flushingConn struct {
	net.Conn
	mu     sync.Mutex
	w      *bufio.Writer
	closed atomic.Bool
}

// Write implements net.Conn.
func (c *flushingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(p)
}

// Read implements net.Conn.
func (c *flushingConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	err := c.w.Flush()
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if err != nil && c.closed.Load() {
		// Closed by the server (Close): Vitess logs every read error but EOF.
		err = io.EOF
	}
	return n, err
}

// Close implements net.Conn: pending output (an error packet, say) is sent first, but a
// client that does not read cannot hold the close up for more than a second.
func (c *flushingConn) Close() error {
	c.closed.Store(true)
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	c.mu.Lock()
	_ = c.w.Flush()
	c.mu.Unlock()
	return c.Conn.Close()
}
