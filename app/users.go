package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// User is a Llama user.
type User struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Post is one of a user's posts.
type Post struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"userId"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

// idEpoch is the start of ID time.
var idEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// newID returns a 64-bit ID: milliseconds since 2024 shifted left 12 bits, plus 12 random bits.
// IDs stay below 2^53 (JavaScript-safe) for about 69 years, sort by creation time, and spread
// evenly over shards by id mod count. The database that owns an ID (its shard) holds it as a
// primary key, so a collision is a unique violation there, and the caller draws again.
func newID(now time.Time) int64 {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // cannot happen on supported platforms
	}
	return now.Sub(idEpoch).Milliseconds()<<12 | int64(binary.BigEndian.Uint16(b[:])&0x0fff)
}

func cacheKey(id int64) string { return "llama:user:" + strconv.FormatInt(id, 10) }

// createUser writes a user to its home's writer; it returns once the row is committed.
func (s *Server) createUser(ctx context.Context, name string) (int64, error) {
	id := newID(time.Now())
	err := s.write(ctx, func(t *tiers) error {
		return s.insertDrawing(&id, func(id int64) *pg { return t.homeOf(id).writer }, func(w *pg, id int64) error {
			_, err := w.db.ExecContext(ctx, `INSERT INTO users (id, name) VALUES ($1, $2)`, id, name)
			return err
		})
	})
	return id, err
}

// insertDrawing runs an insert of a row with a new id, and draws another id when the one it
// drew is taken (a unique violation), five times at most; home picks the database for an id.
// It counts the write on the database that took it.
func (s *Server) insertDrawing(id *int64, home func(int64) *pg, insert func(*pg, int64) error) error {
	for attempt := 0; ; attempt++ {
		w := home(*id)
		err := insert(w, *id)
		if isUniqueViolation(err) && attempt < 5 {
			*id = newID(time.Now())
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		s.stats.write(w.name)
		return nil
	}
}

// getUser reads a user through the cache (read-through): on a miss, from a lag-tolerant reader
// of the user's home; a reader that is down, slow or has not seen the user yet (replication
// lag) sends the read to the writer. A cache that failed is skipped for a while, and nothing
// is written back after a failed cache read.
func (s *Server) getUser(ctx context.Context, id int64) (User, error) {
	var u User
	b, err := s.userJSON(ctx, id)
	if err == nil {
		err = json.Unmarshal(b, &u)
	}
	return u, err
}

// userJSON is a user as the API answers it, JSON: a cache hit is the cached document itself,
// with no decoding and encoding again.
func (s *Server) userJSON(ctx context.Context, id int64) ([]byte, error) {
	t := s.tiers.Load()
	cached := t.cache != nil && t.cacheDown.closed()
	if cached {
		b, found, err := t.cache.get(ctx, cacheKey(id))
		// What the app stored is a user's JSON object; anything else is a miss.
		if found && len(b) > 1 && b[0] == '{' && b[len(b)-1] == '}' {
			s.stats.hit()
			return b, nil
		}
		if err != nil {
			t.cacheDown.fail()
			cached = false
			s.warn(&s.cacheWarn, "cache read failed: reading the database, and skipping the cache for a while", err)
		}
		s.stats.miss()
	}
	u, err := fromReader(s, ctx, t.homeOf(id), func(ctx context.Context, db *pg) (User, error) { return s.queryUser(ctx, db, id) })
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	if cached {
		if err := t.cache.set(ctx, cacheKey(id), b, s.opts.CacheTTL); err != nil {
			t.cacheDown.fail()
			s.warn(&s.cacheWarn, "cache write failed", err)
		}
	}
	return b, nil
}

// ReplicaBound is how long a lag-tolerant read waits for a replica before it reads the writer
// instead; the replica is then skipped for ten seconds (its breaker), so a sick replica costs
// one slow read a period, not every read.
const ReplicaBound = 250 * time.Millisecond

// fromReader runs a read on a reader of the home, and on the writer when the reader fails,
// has not seen the row yet, or has not answered within ReplicaBound. A read the bound cuts
// short is abandoned, not awaited: a hung server answers neither the query nor its
// cancellation (the driver waits for both), so the read goes on in its goroutine until the
// server does or the connection dies, and the breaker keeps further reads off that reader.
func fromReader[T any](s *Server, ctx context.Context, h *home, read func(context.Context, *pg) (T, error)) (T, error) {
	if db := h.reader(); db != h.writer {
		type result struct {
			v   T
			err error
		}
		done := make(chan result, 1)
		rctx, cancel := context.WithTimeout(ctx, ReplicaBound)
		go func() {
			v, err := read(rctx, db)
			done <- result{v, err}
		}()
		select {
		case r := <-done:
			cancel()
			if r.err == nil {
				return r.v, nil
			}
			if !errors.Is(r.err, errNotFound) {
				db.down.fail()
				s.warn(&s.replicaWarn, "reader failed: reading the writer, and skipping the reader for a while", fmt.Errorf("%s: %w", db.name, r.err))
			}
		case <-rctx.Done():
			cancel()
			db.down.fail()
			s.warn(&s.replicaWarn, "reader did not answer in time: reading the writer, and skipping the reader for a while", fmt.Errorf("%s: %w", db.name, rctx.Err()))
		}
	}
	return read(ctx, h.writer)
}

func (s *Server) queryUser(ctx context.Context, db *pg, id int64) (User, error) {
	u := User{ID: id}
	err := db.db.QueryRowContext(ctx, `SELECT name FROM users WHERE id = $1`, id).Scan(&u.Name)
	if errors.Is(err, sql.ErrNoRows) {
		s.stats.read(db.name)
		return User{}, errNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("%s: %w", db.name, err)
	}
	s.stats.read(db.name)
	return u, nil
}

// createPost writes a post to its user's home writer; an unknown user is errNotFound.
func (s *Server) createPost(ctx context.Context, userID int64, body string) (int64, error) {
	id := newID(time.Now())
	err := s.write(ctx, func(t *tiers) error {
		w := t.homeOf(userID).writer
		return s.insertDrawing(&id, func(int64) *pg { return w }, func(w *pg, id int64) error {
			_, err := w.db.ExecContext(ctx, `INSERT INTO posts (id, user_id, body) VALUES ($1, $2, $3)`, id, userID, body)
			return err
		})
	})
	if isForeignKeyViolation(err) {
		return 0, errNotFound
	}
	return id, err
}

// listPosts returns a user's newest posts. Lag-tolerant reads go to a reader (falling back to
// the writer when it is down or slow); consistent reads go to the writer, so a client reads its
// own writes.
func (s *Server) listPosts(ctx context.Context, userID int64, consistent bool, limit int) ([]Post, error) {
	h := s.tiers.Load().homeOf(userID)
	query := func(ctx context.Context, db *pg) ([]Post, error) { return s.queryPosts(ctx, db, userID, limit) }
	var posts []Post
	var err error
	if consistent {
		posts, err = query(ctx, h.writer)
	} else {
		posts, err = fromReader(s, ctx, h, query)
	}
	if err != nil {
		return nil, err
	}
	if len(posts) == 0 {
		if _, err := s.getUser(ctx, userID); err != nil {
			return nil, err
		}
	}
	return posts, nil
}

func (s *Server) queryPosts(ctx context.Context, db *pg, userID int64, limit int) ([]Post, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, body, created_at FROM posts WHERE user_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", db.name, err)
	}
	defer rows.Close()
	posts := []Post{}
	for rows.Next() {
		p := Post{UserID: userID}
		if err := rows.Scan(&p.ID, &p.Body, &p.CreatedAt); err != nil {
			return nil, fmt.Errorf("%s: %w", db.name, err)
		}
		posts = append(posts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", db.name, err)
	}
	s.stats.read(db.name)
	return posts, nil
}

// activityTTL is how long activity items live in DynamoDB before its TTL removes them.
const activityTTL = 90 * 24 * time.Hour

// recordActivity writes one activity item: to the DynamoDB table when the rung has one, else
// to the user's home in PostgreSQL. It returns once the write is durable. From an activity
// move's switch until its retire, the item goes to DynamoDB and then to PostgreSQL, and is
// acknowledged only once both hold it: PostgreSQL stays current, so the move can go back.
func (s *Server) recordActivity(ctx context.Context, userID int64, kind string) (int64, error) {
	if _, err := s.getUser(ctx, userID); err != nil {
		return 0, err
	}
	id, now := newID(time.Now()), time.Now().UTC()
	err := s.write(ctx, func(t *tiers) error {
		if tb := t.table; tb != nil {
			if err := tb.putActivity(ctx, id, userID, kind, now); err != nil {
				return err
			}
			s.stats.write("dynamodb")
			if !slices.Contains(t.view.reverse, TierActivity) {
				return nil
			}
		}
		w := t.homeOf(userID).writer
		// Beside DynamoDB the item's id is given, and writing it again is a no-op; alone, an
		// id the user already has is a unique violation, and another is drawn.
		q := `INSERT INTO activity (id, user_id, kind, created_at) VALUES ($1, $2, $3, $4)`
		if t.table != nil {
			q += ` ON CONFLICT (user_id, id) DO NOTHING`
		}
		return s.insertDrawing(&id, func(int64) *pg { return w }, func(w *pg, id int64) error {
			_, err := w.db.ExecContext(ctx, q, id, userID, kind, now)
			return err
		})
	})
	return id, err
}

// healthy lists what keeps the app from serving: every database the rung writes to (the
// primary, each shard's writer) must answer and have the schema, and a shard map that changed
// without a move is refused.
func (s *Server) healthy(ctx context.Context) []string {
	t := s.tiers.Load()
	ws := t.writers()
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.db.PingContext(ctx)
		}()
	}
	wg.Wait()
	var out []string
	for i, err := range errs {
		if err != nil {
			out = append(out, ws[i].name+" unreachable")
		}
	}
	if db := s.unmigrated(); db != "" {
		out = append(out, "the schema is not applied on "+db+" yet")
	}
	if p := s.refused.Load(); p != nil {
		out = append(out, *p)
	}
	return out
}
