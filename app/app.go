// Package app is the Llama reference app: the one build every rung runs, on the box, on the
// fleet and as the Lambda function. It reads the parameters the stack publishes and adapts to
// what the rung has: a read-through cache when there is one, lag-tolerant reads on replicas
// (and lag-intolerant ones on the primary), users sharded by ID, and the high-write activity
// subset in DynamoDB.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	Env Env
	// Refresh is how often the parameters are read again, so that a promotion reaches a
	// running app without a redeploy; default one minute, negative never.
	Refresh time.Duration
	// CacheTTL is how long a user stays in the cache; default five minutes.
	CacheTTL time.Duration
	Logger   *slog.Logger
	// MoveRefresh is how often the parameters are read while a live move copies or catches
	// up, so that every instance follows its switch soon after; default five seconds.
	MoveRefresh time.Duration
	// SwitchWait is how long a write that reached a store a move has fenced waits for the
	// switch before it is answered 503 with Retry-After; default three seconds.
	SwitchWait time.Duration
	// RequestTimeout is every request's deadline; default RequestTimeout.
	RequestTimeout time.Duration
}

// Server serves the Llama API over the tiers the current parameters name.
type Server struct {
	src   Source
	opts  Options
	log   *slog.Logger
	tiers atomic.Pointer[tiers]
	stats *Stats

	stop context.CancelFunc
	done chan struct{}

	// Warnings about a dependency that is down, once a period each.
	cacheWarn, replicaWarn, refreshWarn limiter

	// refused says why the last parameters were not followed (a shard map changed without a
	// move); nil when they were.
	refused atomic.Pointer[string]

	refreshMu   sync.Mutex // one refresh at a time
	lastRefresh time.Time
	reverse     reverser // keeps the old tier current after a switch
}

// New reads the parameters, connects (lazily) to the tiers they name, and starts applying the
// schema and refreshing the parameters in the background. It fails only when the parameters
// cannot be read or make no sense; a database that is down makes /health say 503 until it is
// back.
func New(ctx context.Context, src Source, opts Options) (*Server, error) {
	if opts.Refresh == 0 {
		opts.Refresh = time.Minute
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MoveRefresh == 0 {
		opts.MoveRefresh = 5 * time.Second
	}
	if opts.SwitchWait == 0 {
		opts.SwitchWait = 3 * time.Second
	}
	params, err := src.Params(ctx)
	if err != nil {
		return nil, err
	}
	t, err := buildTiers(ctx, src, opts.Env, params)
	if err != nil {
		return nil, fmt.Errorf("the published parameters: %w", err)
	}
	bg, stop := context.WithCancel(context.Background())
	s := &Server{src: src, opts: opts, log: opts.Logger, stats: newStats(), stop: stop, done: make(chan struct{})}
	s.reverse.env, s.reverse.src, s.reverse.log = opts.Env, src, opts.Logger
	for _, l := range []*limiter{&s.cacheWarn, &s.replicaWarn, &s.refreshWarn} {
		l.period = 10 * time.Second
	}
	s.tiers.Store(t)
	go s.background(bg)
	return s, nil
}

// Close stops the background work and closes every connection.
func (s *Server) Close() {
	s.stop()
	<-s.done
	s.tiers.Load().close()
	s.reverse.close()
}

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return s.stats }

// background applies the schema until every database has it, refreshes the parameters (more
// often while a move copies or catches up), and after a switch keeps the old tier current.
func (s *Server) background(ctx context.Context) {
	defer close(s.done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last := time.Now()
	// Retry the schema with backoff, from half a second to half a minute.
	retry, next := 500*time.Millisecond, time.Now()
	for {
		if time.Now().After(next) {
			if s.MigrateAll(ctx) {
				retry = 500 * time.Millisecond
			} else {
				retry = min(2*retry, 30*time.Second)
			}
			next = time.Now().Add(retry)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := s.tiers.Load()
		refresh := s.opts.Refresh
		if t.view.moving() && refresh > 0 {
			refresh = min(refresh, s.opts.MoveRefresh)
		}
		if refresh > 0 && time.Since(last) >= refresh {
			last = time.Now()
			if err := s.Refresh(ctx); err != nil {
				s.log.Warn("refreshing parameters", "err", err)
			}
		}
		s.reverse.step(ctx, t)
	}
}

// MigrateAll applies the schema to every database that does not have it yet and reports
// whether all do.
func (s *Server) MigrateAll(ctx context.Context) bool {
	s.migrate(ctx, s.tiers.Load())
	return s.unmigrated() == ""
}

// Refresh reads the parameters again and, when they changed, moves to the tiers they name,
// once their databases have the schema. Connections to the old tiers close after a grace
// period for requests in flight. A shard map that changed without a move (llama-app move
// shards) is not followed: users would land on shards that do not hold them.
func (s *Server) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	s.lastRefresh = time.Now()
	params, err := s.src.Params(ctx)
	if err != nil {
		return err
	}
	old := s.tiers.Load()
	if maps.Equal(params, old.params) {
		return nil
	}
	t, err := buildTiers(ctx, s.src, s.opts.Env, params)
	if err != nil {
		return fmt.Errorf("the published parameters: %w", err)
	}
	if why := shardMapChanged(old, t); why != "" {
		t.close()
		s.refused.Store(&why)
		return errors.New(why)
	}
	s.refused.Store(nil)
	s.migrate(ctx, t)
	s.tiers.Store(t)
	s.log.Info("parameters changed: new tiers in use", "shards", len(t.shards), "cache", t.cache != nil, "dynamodb", t.table != nil)
	time.AfterFunc(30*time.Second, old.close)
	return nil
}

// shardMapChanged says why new tiers may not replace old ones: their shard count differs and
// no move of the shards switched (or went back) in between.
func shardMapChanged(old, t *tiers) string {
	if len(old.shards) == len(t.shards) || len(old.shards) == 0 {
		return ""
	}
	if old.view.gens[TierShards] != t.view.gens[TierShards] {
		return ""
	}
	return fmt.Sprintf("the published shard map changed from %d to %d shards without a move: users would land on shards that do not hold them; "+
		"the app keeps the %d-shard map (publish the new map under next/ with llama:shardsFrom=%d, then run llama-app move shards)",
		len(old.shards), len(t.shards), len(old.shards), len(old.shards))
}

// migrate applies the schema to the tiers' databases that lack it.
func (s *Server) migrate(ctx context.Context, t *tiers) {
	for _, db := range t.writers() {
		if db.migrated.Load() {
			continue
		}
		mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err := Migrate(mctx, db.db)
		cancel()
		if err != nil {
			s.log.Warn("schema not applied yet", "database", db.name, "err", err)
			continue
		}
		s.log.Info("schema applied", "database", db.name, "version", v)
		db.migrated.Store(true)
	}
}

// unmigrated names a database in use that lacks the schema, or "". Every API request asks:
// each database carries its own flag, read without a lock.
func (s *Server) unmigrated() string {
	for _, db := range s.tiers.Load().writers() {
		if !db.migrated.Load() {
			return db.name
		}
	}
	return ""
}

// errMoving: a write reached a store that a live move has fenced, and the switch did not
// reach this instance in time. It is answered 503 with Retry-After.
var errMoving = errors.New("a live move is switching this data to its new home: retry")

// write runs a write on the tiers in use. A write refused by a fence (a move switched the
// tier away from the store it reached) was not applied: the app reads the parameters again
// and retries on the store they name, for up to SwitchWait.
func (s *Server) write(ctx context.Context, do func(t *tiers) error) error {
	deadline := time.Now().Add(s.opts.SwitchWait)
	wait := 10 * time.Millisecond
	for {
		err := do(s.tiers.Load())
		if !isFenced(err) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %v", errMoving, err)
		}
		s.refreshSoon(ctx)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// refreshSoon reads the parameters again unless that was done in the last 50 ms.
func (s *Server) refreshSoon(ctx context.Context) {
	s.refreshMu.Lock()
	recent := time.Since(s.lastRefresh) < 50*time.Millisecond
	s.refreshMu.Unlock()
	if recent {
		return
	}
	if err := s.Refresh(ctx); err != nil {
		s.log.Warn("refreshing parameters after a fenced write", "err", err)
	}
}

// warn logs a warning unless its limiter let one through in the last period.
func (s *Server) warn(l *limiter, msg string, err error) {
	if l.allow() {
		s.log.Warn(msg, "err", err)
	}
}

// errNotFound is an unknown user.
var errNotFound = errors.New("not found")
