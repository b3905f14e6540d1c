package app

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// moverName is the application_name of a mover's sessions: the capture triggers skip their
// writes, and fences do not apply to them.
const moverName = "llama-move"

// link joins the stores a tier moves from (old) and to (new), as the parameters name them:
// the primary to RDS (db), the primary or the old shards to the new shard map (shards), the
// PostgreSQL homes of activity to DynamoDB (activity). A user's rows live on new[uid mod
// len(new)] and old[uid mod len(old)].
type link struct {
	tier     string
	old, new []*pgStore
	dyn      *dynStore // activity's new store
	tables   []movedTable
	stores   []*pgStore // every PostgreSQL store, each once
	// touched collects the keys drains apply while it is not nil (verifyTouched reads it).
	touched settledSet
}

// layouts returns the parameters the app serves from before a tier's switch and after it:
// the other tiers as the app sees them, this one current (old) or next (new).
func layouts(params map[string]string, tier string) (old, new map[string]string, err error) {
	if _, ok := tierKeys[tier]; !ok {
		return nil, nil, fmt.Errorf("no tier %q: the tiers are %v", tier, Tiers)
	}
	v, err := resolve(params)
	if err != nil {
		return nil, nil, err
	}
	base := current(params)
	for _, t := range v.reverse { // the tiers the app serves switched, this one aside
		if t != tier {
			base = overlay(base, params, t)
		}
	}
	if !hasNext(params, tier) {
		return base, nil, nil
	}
	return base, overlay(base, params, tier), nil
}

// openLink opens the stores of a tier's move; new is nil when the stack publishes no next/
// keys for it (before the expand `pulumi up`, or after the retire).
func openLink(ctx context.Context, src Source, env Env, params map[string]string, tier string) (*link, error) {
	oldP, newP, err := layouts(params, tier)
	if err != nil {
		return nil, err
	}
	if newP == nil {
		return nil, fmt.Errorf("the stack publishes no %s%s keys: run the expand `pulumi up` of the stage that adds the new %s tier first", NextPrefix, tierKeys[tier], tier)
	}
	oldL, err := Describe(oldP)
	if err != nil {
		return nil, fmt.Errorf("the current %s tier: %w", tier, err)
	}
	newL, err := Describe(newP)
	if err != nil {
		return nil, fmt.Errorf("the next %s tier: %w", tier, err)
	}
	l := &link{tier: tier, tables: tablesOf(tier)}
	from, to, err := l.sides(env, oldL, newL)
	if err != nil {
		return nil, err
	}
	for _, side := range []struct {
		dbs    []DB
		stores *[]*pgStore
	}{{from, &l.old}, {to, &l.new}} {
		for _, d := range side.dbs {
			s, err := l.open(ctx, src, env, d)
			if err != nil {
				l.close()
				return nil, err
			}
			*side.stores = append(*side.stores, s)
		}
	}
	return l, nil
}

// sides are the databases a tier's move copies from and to; the activity move's target is the
// DynamoDB table, which it sets on the link.
func (l *link) sides(env Env, oldL, newL *Layout) (from, to []DB, err error) {
	switch l.tier {
	case TierDB:
		return []DB{oldL.Primary}, []DB{newL.Primary}, nil
	case TierShards:
		if len(newL.Shards) == 0 {
			return nil, nil, fmt.Errorf("%sshards/count names no shard", NextPrefix)
		}
		return homes(oldL), homes(newL), nil
	case TierActivity:
		if newL.Table == nil {
			return nil, nil, fmt.Errorf("%stables/: %w", NextPrefix, errNoTable)
		}
		tb := newL.Table
		l.dyn = &dynStore{tb: &table{client: dynamodb.NewFromConfig(env.AWS), name: tb.Name, partition: tb.PartitionKey, sort: tb.SortKey, ttl: tb.TTLAttribute}}
		return homes(oldL), nil, nil
	}
	return nil, nil, nil
}

// homes are the databases users live in: the shards' writers, or the primary without shards.
func homes(lay *Layout) []DB {
	if len(lay.Shards) == 0 {
		return []DB{lay.Primary}
	}
	var out []DB
	for _, s := range lay.Shards {
		out = append(out, s.Writer)
	}
	return out
}

// open opens a store for the mover, once per database: a database both ends name (a shard the
// move keeps) is one store.
func (l *link) open(ctx context.Context, src Source, env Env, d DB) (*pgStore, error) {
	key := fmt.Sprintf("%s/%s", d.Endpoint, d.Database)
	for _, s := range l.stores {
		if s.key == key {
			return s, nil
		}
	}
	p, err := openDB(ctx, src, env, d, session{name: moverName, pool: 4})
	if err != nil {
		return nil, err
	}
	p.db.SetMaxOpenConns(4)
	s := &pgStore{name: d.Name, key: key, db: p.db}
	l.stores = append(l.stores, s)
	return s, nil
}

func (l *link) close() {
	for _, s := range l.stores {
		s.db.Close()
	}
}

// home returns the store of a user among stores.
func homeIn(stores []*pgStore, uid int64) *pgStore {
	return stores[uint64(uid)%uint64(len(stores))]
}

// install puts the change capture on every PostgreSQL store of the move.
func (l *link) install(ctx context.Context) error {
	for _, s := range l.stores {
		if err := s.install(ctx, l.tier); err != nil {
			return err
		}
	}
	return nil
}

// direction is which way changes flow: forward from old to new, or back.
type direction bool

const (
	forward direction = false
	back    direction = true
)

// ends returns the stores changes come from and go to.
func (l *link) ends(d direction) (from, to []*pgStore) {
	if d == back {
		return l.new, l.old
	}
	return l.old, l.new
}

// drain applies the captured changes of every source store once, up to limit each, and
// returns how many it applied. Each change is applied as the row is now on its store (insert
// or update it, or delete it where it is gone), on its user's home; the log entries go only
// once their rows are written, so a drain that stops midway is repeated without harm.
func (l *link) drain(ctx context.Context, d direction, limit int) (int, error) {
	from, to := l.ends(d)
	total := 0
	for _, src := range from {
		es, err := src.readLog(ctx, l.tier, limit)
		if err != nil {
			return total, err
		}
		if len(es) == 0 {
			continue
		}
		if err := l.apply(ctx, src, to, es, d); err != nil {
			return total, err
		}
		seqs := make([]int64, len(es))
		for i, e := range es {
			seqs[i] = e.seq
		}
		if err := src.dropLog(ctx, seqs); err != nil {
			return total, err
		}
		total += len(es)
	}
	return total, nil
}

// apply writes the current state of logged rows to their homes among to (or DynamoDB).
func (l *link) apply(ctx context.Context, src *pgStore, to []*pgStore, es []logEntry, d direction) error {
	for _, t := range l.tables {
		var keys []rkey
		for _, e := range es {
			if e.tbl == t.name {
				keys = append(keys, rkey{e.uid, e.id})
			}
		}
		if len(keys) == 0 {
			continue
		}
		if l.touched != nil {
			l.touched[t.name] = append(l.touched[t.name], keys...)
		}
		rs, err := src.rows(ctx, t, keys)
		if err != nil {
			return err
		}
		present := map[rkey]bool{}
		for _, r := range rs {
			present[t.key(r)] = true
		}
		var gone []logEntry
		for _, k := range keys {
			if !present[k] {
				gone = append(gone, logEntry{tbl: t.name, id: k.id, uid: k.uid})
			}
		}
		if l.dyn != nil && d == forward {
			if err := l.dyn.put(ctx, rs); err != nil {
				return err
			}
			if err := l.dyn.remove(ctx, gone); err != nil {
				return err
			}
			continue
		}
		if err := l.write(ctx, src, to, t, rs, gone); err != nil {
			return err
		}
	}
	return nil
}

// write upserts rows and deletes gone ones on each row's home among to, skipping the store
// the change came from (a shard that keeps its users when the count grows); src is nil for
// rows that come from no PostgreSQL store (DynamoDB's, moving back).
func (l *link) write(ctx context.Context, src *pgStore, to []*pgStore, t movedTable, rs []row, gone []logEntry) error {
	byHome := map[*pgStore][]row{}
	for _, r := range rs {
		if h := homeIn(to, t.uid(r)); h != src {
			byHome[h] = append(byHome[h], r)
		}
	}
	for h, part := range byHome {
		err := h.upsert(ctx, t, part)
		if isForeignKeyViolation(err) && t.user != "id" && src != nil {
			// A row whose user has not reached its home yet: bring the users first.
			if err = l.bringUsers(ctx, src, to, t, part); err == nil {
				err = h.upsert(ctx, t, part)
			}
		}
		if err != nil {
			return err
		}
	}
	goneBy := map[*pgStore][]rkey{}
	for _, e := range gone {
		if h := homeIn(to, e.uid); h != src {
			goneBy[h] = append(goneBy[h], rkey{e.uid, e.id})
		}
	}
	for h, keys := range goneBy {
		if err := h.remove(ctx, t, keys); err != nil {
			return err
		}
	}
	return nil
}

// bringUsers writes the users of rows to their homes, as the store the rows come from holds
// them.
func (l *link) bringUsers(ctx context.Context, src *pgStore, to []*pgStore, t movedTable, rs []row) error {
	users := movedTables[0]
	seen := map[int64]bool{}
	var keys []rkey
	for _, r := range rs {
		if u := t.uid(r); !seen[u] {
			seen[u] = true
			keys = append(keys, rkey{u, u})
		}
	}
	us, err := src.rows(ctx, users, keys)
	if err != nil {
		return err
	}
	return l.write(ctx, src, to, users, us, nil)
}

// copyAll copies every row of the moved tables from the old stores to their homes, in id
// order, recording its progress on each old store so that a mover that is stopped resumes
// where it was. Changes made meanwhile are in the log, which the catch-up applies.
func (l *link) copyAll(ctx context.Context, batch int, progress io.Writer) (int64, error) {
	var copied int64
	start, last := time.Now(), time.Now()
	for _, src := range l.old {
		for _, t := range l.tables {
			after, err := src.progress(ctx, l.tier, t.name)
			if err != nil {
				return copied, err
			}
			for {
				rs, err := src.scan(ctx, t, after, batch)
				if err != nil {
					return copied, err
				}
				if len(rs) == 0 {
					break
				}
				if err := l.copyBatch(ctx, src, t, rs); err != nil {
					return copied, err
				}
				after = t.key(rs[len(rs)-1])
				if err := src.setProgress(ctx, l.tier, t.name, after); err != nil {
					return copied, err
				}
				copied += int64(len(rs))
				if progress != nil && time.Since(last) >= time.Second {
					last = time.Now()
					fmt.Fprintf(progress, "copying %s from %s: %d rows so far, %.0f rows/s\n", t.name, src.name, copied, float64(copied)/time.Since(start).Seconds())
				}
			}
		}
	}
	return copied, nil
}

// copyBatch writes one batch to its homes. A post whose user the copy of users has not seen
// (created since) waits for the catch-up: the log holds that user.
func (l *link) copyBatch(ctx context.Context, src *pgStore, t movedTable, rs []row) error {
	if l.dyn != nil {
		return l.dyn.put(ctx, rs)
	}
	for attempt := 0; ; attempt++ {
		err := l.write(ctx, src, l.new, t, rs, nil)
		if err == nil || !isForeignKeyViolation(err) || attempt >= 5 {
			return err
		}
		for {
			n, err := l.drain(ctx, forward, 5000)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
	}
}

// verify compares, table by table, what each store of to holds of its own users with what
// the stores of from hold of them: row counts and checksums.
func (l *link) verify(ctx context.Context, d direction) (int64, error) {
	from, to := l.ends(d)
	var rows int64
	if l.dyn != nil {
		want := newAggregate()
		for _, s := range l.old {
			a, err := s.checksum(ctx, l.tables[0], activityChecked, 1, 0)
			if err != nil {
				return 0, err
			}
			want.add(a)
		}
		got, err := l.dyn.checksum(ctx)
		if err != nil {
			return 0, err
		}
		if !want.equal(got) {
			return 0, fmt.Errorf("activity: PostgreSQL holds %s, DynamoDB %s", want, got)
		}
		return got.rows, nil
	}
	n := len(to)
	for i, dst := range to {
		for _, t := range l.tables {
			want := newAggregate()
			for _, s := range from {
				a, err := s.checksum(ctx, t, t.cols, n, i)
				if err != nil {
					return 0, err
				}
				want.add(a)
			}
			got, err := dst.checksum(ctx, t, t.cols, n, i)
			if err != nil {
				return 0, err
			}
			if !want.equal(got) {
				return 0, fmt.Errorf("%s on %s: the source holds %s, %s holds %s%s", t.name, dst.name, want, dst.name, got, differing(ctx, from, dst, t, n, i))
			}
			rows += got.rows
		}
	}
	return rows, nil
}

// fresh reports whether the new stores hold none of the moved rows yet (a store that is old
// and new at once, a shard that keeps its users, excepted).
func (l *link) fresh(ctx context.Context) error {
	for _, s := range l.new {
		if slices.Contains(l.old, s) {
			continue
		}
		for _, t := range l.tables {
			n, err := s.count(ctx, t)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if n > 0 {
				return fmt.Errorf("%s already holds %d rows of %s: a move starts on an empty store (run `llama-app move status`; a move that was stopped resumes by itself)", s.name, n, t.name)
			}
		}
	}
	return nil
}

// differing names a few rows that differ between the sources and a destination, to start
// the investigation of a failed verification with.
func differing(ctx context.Context, from []*pgStore, dst *pgStore, t movedTable, mod, rem int) string {
	q := fmt.Sprintf(`SELECT id::text || '/' || %s::text || ' ' || md5(concat_ws('|', %s)) FROM %s WHERE (%s %% $1) = $2`, t.user, strings.Join(t.cols, "::text, ")+"::text", t.name, t.user)
	read := func(s *pgStore, into map[string]int) {
		rows, err := s.db.QueryContext(ctx, q, mod, rem)
		if err != nil {
			return
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			rows.Scan(&k)
			into[k]++
		}
	}
	src, got := map[string]int{}, map[string]int{}
	for _, s := range from {
		read(s, src)
	}
	read(dst, got)
	var only []string
	for k, n := range src {
		if got[k] != n {
			only = append(only, fmt.Sprintf("%s (source %d, %s %d)", strings.Fields(k)[0], n, dst.name, got[k]))
		}
	}
	for k, n := range got {
		if src[k] == 0 {
			only = append(only, fmt.Sprintf("%s (source 0, %s %d)", strings.Fields(k)[0], dst.name, n))
		}
	}
	slices.Sort(only)
	if len(only) > 5 {
		only = append(only[:5], "...")
	}
	return "; rows that differ: " + strings.Join(only, ", ")
}
