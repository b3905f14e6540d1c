package app

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/redis/rueidis"
)

// cacheTimeout bounds every cache command, and the dial: a cache that does not answer costs a
// read this long at most, then the cache's breaker skips it for a while.
const cacheTimeout = 200 * time.Millisecond

// cache is the read-through cache (Valkey or Redis) through rueidis, whose auto-pipelining
// writes the commands of concurrent requests to one connection together and reads their
// replies together: a few system calls for many reads, where a client with a pool of
// connections makes two or three for each.
type cache struct {
	client rueidis.Client
}

// newCache connects to a cache at addr. A cache that is down when the app starts is no error:
// the client connects when a command first needs it, and the commands fail fast until then.
func newCache(addr string, tlsConfig *tls.Config, password string) (*cache, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{addr}, TLSConfig: tlsConfig, Password: password,
		// One node's endpoint (the replication group's primary), no client-side caching (the
		// app's writes would need invalidation), no retries (the breaker decides), one dial
		// attempt bounded like a command.
		ForceSingleClient: true, DisableCache: true, DisableRetry: true,
		Dialer: net.Dialer{Timeout: cacheTimeout}, ConnWriteTimeout: time.Second,
	})
	if c == nil {
		return nil, err
	}
	return &cache{client: c}, nil
}

// get reads a key: found false when it is not there.
func (c *cache) get(ctx context.Context, key string) (b []byte, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
	b, err = c.client.Do(ctx, c.client.B().Get().Key(key).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// set writes a key that expires after ttl.
func (c *cache) set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
	return c.client.Do(ctx, c.client.B().Set().Key(key).Value(rueidis.BinaryString(value)).Ex(ttl).Build()).Error()
}

func (c *cache) close() { c.client.Close() }
