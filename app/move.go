package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"time"
)

// Recorder keeps the mover's records where the app and `pulumi up` read them: the parameter
// moves/<tier> beside the ones the stack publishes.
type Recorder interface {
	// SetParam writes one parameter under the stack's prefix (moves/db).
	SetParam(ctx context.Context, key, value string) error
}

// MoveOptions configure a move.
type MoveOptions struct {
	Back   bool // switch back to the old tier
	Retire bool // after the retire `pulumi up`: remove what the move left on the old tier
	// Batch is the rows a copy or catch-up step takes at once; default 5,000.
	Batch int
	// Progress receives a line a second on long copies; nil: none.
	Progress io.Writer
	// Grace is how long after a switch the retire step waits, so that every instance has
	// followed the switch (the app reads the parameters every minute by default): until
	// then only the fences keep a late instance from writing to the old tier. Default two
	// minutes.
	Grace time.Duration
}

// MoveResult is the last line a move prints.
type MoveResult struct {
	Move         string `json:"move"`
	Back         bool   `json:"back,omitempty"`
	Retired      bool   `json:"retired,omitempty"`
	Rows         int64  `json:"rows"`
	Verified     bool   `json:"verified"`
	WritePauseMs int64  `json:"writePauseMs"`
	// Copied and CopyMs are the rows this run copied in bulk and how long that took.
	Copied int64 `json:"copied,omitempty"`
	CopyMs int64 `json:"copyMs,omitempty"`
}

// mover runs one tier's move.
type mover struct {
	tier string
	src  Source
	rec  Recorder
	opts MoveOptions
	l    *link
	r    Record
	lock *sql.Conn // the move's advisory lock, held while it runs
	// target fingerprints the next/ keys this move goes to.
	target string
}

// Move runs a tier's move to its end, or the move back, or the retire step (see MoveOptions):
// copy, catch up, fence the store being left, drain, verify, switch. Each step is recorded,
// so a mover that is stopped, even with kill -9, runs again from where it was; a switch is
// reported verified only once counts and checksums match on both sides.
func Move(ctx context.Context, src Source, rec Recorder, env Env, tier string, o MoveOptions) (MoveResult, error) {
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.Grace == 0 {
		o.Grace = 2 * time.Minute
	}
	res := MoveResult{Move: tier, Back: o.Back, Retired: o.Retire}
	params, err := src.Params(ctx)
	if err != nil {
		return res, err
	}
	r, _, err := readRecord(params, tier)
	if err != nil {
		return res, err
	}
	if o.Retire {
		return retire(ctx, src, rec, env, params, r, o.Grace)
	}
	l, err := openLink(ctx, src, env, params, tier)
	if err != nil {
		return res, err
	}
	defer l.close()
	m := &mover{tier: tier, src: src, rec: rec, opts: o, l: l, r: r, target: target(params, tier)}
	if (r.State == StateSwitched || r.State == StateBack) && r.Target != "" && r.Target != m.target {
		// The record is of an earlier move (to other next/ keys): this is a new one.
		m.r.State = StateRetired
	}
	if err := m.acquire(ctx); err != nil {
		return res, err
	}
	defer m.lock.Close()
	if o.Back {
		return m.back(ctx)
	}
	return m.forward(ctx)
}

// acquire takes the move's advisory lock on its first old store: one mover at a time, and
// the app's reverse catch-up waits for it. The app's catch-up holds it for a moment at a time:
// the mover waits up to ten seconds for it.
func (m *mover) acquire(ctx context.Context) error {
	c, err := m.l.old[0].db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", m.l.old[0].name, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var ok bool
		if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, moveLock(m.tier)).Scan(&ok); err != nil {
			c.Close()
			return fmt.Errorf("%s: %w", m.l.old[0].name, err)
		}
		if ok {
			m.lock = c
			return nil
		}
		if time.Now().After(deadline) {
			c.Close()
			return fmt.Errorf("another mover of %s is running (its lock is held on %s)", m.tier, m.l.old[0].name)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			c.Close()
			return err
		}
	}
}

// moveLock is the advisory lock key of a tier's move.
func moveLock(tier string) int64 {
	h := fnv.New64a()
	h.Write([]byte("llama-move/" + tier))
	return int64(h.Sum64() >> 1)
}

// record writes the move's state where the app and `pulumi up` read it.
func (m *mover) record(ctx context.Context, state string, change func(*Record)) error {
	m.r.State, m.r.Updated = state, time.Now().UTC().Truncate(time.Millisecond)
	if change != nil {
		change(&m.r)
	}
	b, err := json.Marshal(m.r)
	if err != nil {
		return err
	}
	if err := m.rec.SetParam(ctx, RecordPrefix+m.tier, string(b)); err != nil {
		return fmt.Errorf("recording the %s move as %s: %w", m.tier, state, err)
	}
	return nil
}

// forward moves the tier to the new stores.
func (m *mover) forward(ctx context.Context) (MoveResult, error) {
	res := MoveResult{Move: m.tier}
	switch m.r.State {
	case StateSwitched:
		// Already switched (a mover that was stopped after it recorded the switch).
		return MoveResult{Move: m.tier, Rows: m.r.Rows, Verified: true, WritePauseMs: m.r.PauseMs}, nil
	case StateRetired:
		// The stack publishes a new tier again (a shard count that grows): a new move.
		m.r.State = ""
	}
	for _, s := range m.l.new {
		if _, err := Migrate(ctx, s.db); err != nil {
			return res, fmt.Errorf("%s: applying the schema: %w", s.name, err)
		}
	}
	if err := m.l.install(ctx); err != nil {
		return res, err
	}
	var copied int64
	var took time.Duration
	if m.r.State == "" || m.r.State == StateExpanded || m.r.State == StateCopying {
		if err := m.prepare(ctx); err != nil {
			return res, err
		}
		start := time.Now()
		n, err := m.l.copyAll(ctx, m.opts.Batch, m.opts.Progress)
		if err != nil {
			return res, err
		}
		copied, took = n, time.Since(start)
	}
	// From "back", the new stores hold everything up to the move back: the log holds the rest.
	res, err := m.switchOver(ctx, forward)
	res.Copied, res.CopyMs = copied, took.Milliseconds()
	return res, err
}

// prepare checks that the move may start (or resume) and records it as copying.
func (m *mover) prepare(ctx context.Context) error {
	if err := m.sameSchema(ctx); err != nil {
		return err
	}
	if m.r.State != StateCopying {
		if err := m.l.fresh(ctx); err != nil {
			return err
		}
		if m.l.dyn != nil {
			if a, err := m.l.dyn.checksum(ctx); err != nil || a.rows > 0 {
				return errors.Join(err, fmt.Errorf("DynamoDB table %s already holds %d items: a move starts on an empty table", m.l.dyn.tb.name, a.rows))
			}
		}
	}
	return m.record(ctx, StateCopying, nil)
}

// sameSchema refuses a move between stores whose moved tables differ.
func (m *mover) sameSchema(ctx context.Context) error {
	cols := func(s *pgStore, t string) (string, error) {
		var c string
		err := s.db.QueryRowContext(ctx, `SELECT coalesce(string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position), '')
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, t).Scan(&c)
		return c, err
	}
	for _, t := range m.l.tables {
		want, err := cols(m.l.old[0], t.name)
		if err != nil {
			return fmt.Errorf("%s: %w", m.l.old[0].name, err)
		}
		for _, s := range append(slices.Clone(m.l.old[1:]), m.l.new...) {
			got, err := cols(s, t.name)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if got != want {
				return fmt.Errorf("the schemas differ: %s on %s is (%s), on %s (%s); bring both to one schema version first", t.name, m.l.old[0].name, want, s.name, got)
			}
		}
	}
	return nil
}

// catchUp applies the log until a pass finds little left: the switch then drains the rest
// behind the fence in a moment.
func (m *mover) catchUp(ctx context.Context, d direction) error {
	for pass := 0; ; pass++ {
		n, err := m.l.drain(ctx, d, m.opts.Batch)
		if err != nil {
			return err
		}
		if n < 200 || pass > 10000 {
			return nil
		}
	}
}

// drainAll applies the log until it is empty.
func (m *mover) drainAll(ctx context.Context, d direction) error {
	for {
		n, err := m.l.drain(ctx, d, m.opts.Batch)
		if err != nil || n == 0 {
			return err
		}
	}
}

// switchOver catches up, fences the stores being left, drains the rest, verifies and records
// the switch: the app follows it, and a write that reached a fenced store is retried on the
// store it now names.
func (m *mover) switchOver(ctx context.Context, d direction) (MoveResult, error) {
	res := MoveResult{Move: m.tier, Back: d == back}
	// Until the switch the app stays where it is: on the old tier going forward, on the new
	// one going back.
	state := StateCatchingUp
	if d == back {
		state = StateSwitched
	}
	if m.r.State != StateSwitched || d == back {
		if err := m.record(ctx, state, nil); err != nil {
			return res, err
		}
	}
	if m.l.dyn != nil && d == back {
		return m.activityBack(ctx)
	}
	if err := m.catchUp(ctx, d); err != nil {
		return res, err
	}
	gen := m.r.Gen + 1
	rows, pause, err := m.fenceAndVerify(ctx, d, state, gen)
	if err != nil {
		return res, err
	}
	if err := m.recordSwitch(ctx, d, gen, rows, pause); err != nil {
		return res, err
	}
	res.Rows, res.Verified, res.WritePauseMs = rows, true, pause
	return res, nil
}

// fenceAndVerify verifies what has settled while the app still writes, fences the stores the
// switch leaves at generation gen, drains what is left and verifies behind the fence only what
// changed. It returns the rows verified and how long writes were paused. A difference opens
// the fence again: the app goes on writing where it did, and the move can be run again once
// the difference is understood.
func (m *mover) fenceAndVerify(ctx context.Context, d direction, state string, gen int) (rows, pauseMs int64, err error) {
	leaving, fencedTag := m.l.old, "old"
	if d == back {
		leaving, fencedTag = m.l.new, "new"
	}
	pending, settled, pre, err := m.l.preVerify(ctx, d)
	if err != nil {
		return 0, 0, fmt.Errorf("verifying the %s move before the switch: %w", m.tier, err)
	}
	if pre {
		m.l.touched = pending // the drains behind the fence add what they apply
	}
	start := time.Now()
	for _, s := range leaving {
		if err := s.fence(ctx, m.tier, gen); err != nil {
			return 0, 0, err
		}
	}
	if err := m.record(ctx, state, func(r *Record) { r.Fenced = fencedTag }); err != nil {
		return 0, 0, err
	}
	if err := m.drainAll(ctx, d); err != nil {
		return 0, 0, err
	}
	if pre {
		rows, err = m.l.verifyTouched(ctx, d, m.l.touched)
		rows += settled
	} else {
		rows, err = m.l.verify(ctx, d)
	}
	m.l.touched = nil
	if err != nil {
		for _, s := range leaving {
			s.unfence(ctx, m.tier, m.r.Gen)
		}
		m.record(ctx, state, func(r *Record) { r.Fenced = "" })
		return 0, 0, fmt.Errorf("verifying the %s move: %w", m.tier, err)
	}
	return rows, time.Since(start).Milliseconds(), nil
}

// recordSwitch records the switch, which the app follows: the new generation, the rows
// verified and the pause, and for shards the count the retire pulumi up checks.
func (m *mover) recordSwitch(ctx context.Context, d direction, gen int, rows, pauseMs int64) error {
	next := StateSwitched
	if d == back {
		next = StateBack
	}
	return m.record(ctx, next, func(r *Record) {
		r.Gen, r.Fenced, r.Rows, r.PauseMs, r.Target = gen, "", rows, pauseMs, m.target
		if m.tier == TierShards {
			r.Shards = len(m.l.new) // what the retire pulumi up checks against llama:shards
			if d == back {
				r.Shards = 0
			}
		}
	})
}

// activityBack returns activity to PostgreSQL. Since the switch every write went to DynamoDB
// and then to PostgreSQL, and was acknowledged only when both held it: PostgreSQL holds every
// acknowledged item. The move back copies what DynamoDB alone holds (writes answered 503
// midway, and those still under way), and verifies that every item DynamoDB holds is in
// PostgreSQL as it is there, reading DynamoDB again until a pass finds nothing to copy (the
// app writes on meanwhile, to both). Then it switches. No fence is needed: instances still on
// DynamoDB write PostgreSQL too.
func (m *mover) activityBack(ctx context.Context) (MoveResult, error) {
	res := MoveResult{Move: m.tier, Back: true}
	t := m.l.tables[0]
	var rows int64
	for pass := 0; ; pass++ {
		items, err := m.l.dyn.items(ctx, nil)
		if err != nil {
			return res, err
		}
		missing, err := m.missingInPG(ctx, t, asRows(items))
		if err != nil {
			return res, err
		}
		rows = int64(len(items))
		if len(missing) == 0 {
			break
		}
		if pass >= 20 {
			return res, fmt.Errorf("verifying the activity move back: %d items of DynamoDB are still not in PostgreSQL after %d passes", len(missing), pass)
		}
		if err := m.l.write(ctx, nil, m.l.old, t, missing, nil); err != nil {
			return res, err
		}
	}
	gen := m.r.Gen + 1
	if err := m.record(ctx, StateBack, func(r *Record) { r.Gen, r.Fenced, r.Rows, r.PauseMs = gen, "", rows, 0 }); err != nil {
		return res, err
	}
	res.Rows, res.Verified = rows, true
	return res, nil
}

// missingInPG returns the activity rows PostgreSQL does not hold as given (id, user, kind).
func (m *mover) missingInPG(ctx context.Context, t movedTable, rs []row) ([]row, error) {
	keys := make([]rkey, len(rs))
	for i, r := range rs {
		keys[i] = t.key(r)
	}
	held, err := rowsByHome(ctx, m.l.old, t, keys)
	if err != nil {
		return nil, err
	}
	var out []row
	for _, r := range rs {
		if h, ok := held[t.key(r)]; !ok || h[2] != r[2] { // the kind
			out = append(out, r)
		}
	}
	return out, nil
}

// back switches a tier back to the old stores, from the switch until the retire `pulumi up`.
func (m *mover) back(ctx context.Context) (MoveResult, error) {
	res := MoveResult{Move: m.tier, Back: true}
	switch m.r.State {
	case StateSwitched:
	case StateBack:
		return MoveResult{Move: m.tier, Back: true, Rows: m.r.Rows, Verified: true, WritePauseMs: m.r.PauseMs}, nil
	default:
		return res, fmt.Errorf("the %s move is %s, not switched: there is nothing to switch back (run `llama-app move status`)", m.tier, orExpanded(m.r.State))
	}
	if err := m.l.install(ctx); err != nil {
		return res, err
	}
	return m.switchOver(ctx, back)
}

func orExpanded(state string) string {
	if state == "" {
		return StateExpanded
	}
	return state
}

// retire removes what a switched move left on the old tier once the retire `pulumi up` has
// made the new tier the current one: the capture and, for shards, the rows each store holds
// of users who live elsewhere now (for activity, PostgreSQL's copy). A store the tier leaves
// for good (the primary, once users live on shards; PostgreSQL's activity table) keeps its
// fence, so an instance that never followed still cannot write there.
func retire(ctx context.Context, src Source, rec Recorder, env Env, params map[string]string, r Record, grace time.Duration) (MoveResult, error) {
	res := MoveResult{Move: r.Tier, Retired: true}
	if r.State == StateRetired {
		res.Verified = true
		return res, nil
	}
	if r.State != StateSwitched {
		return res, fmt.Errorf("the %s move is %s: only a switched move is retired", r.Tier, orExpanded(r.State))
	}
	if hasNext(params, r.Tier) {
		return res, fmt.Errorf("the stack still publishes %s%s: run the retire `pulumi up` first (pulumi config set llama:moved ... including %s)", NextPrefix, tierKeys[r.Tier], r.Tier)
	}
	if wait := grace - time.Since(r.Updated); wait > 0 {
		return res, fmt.Errorf("the %s switch was recorded %s ago: retire it once every instance has followed it (their parameter refresh, a minute by default); run this again in %s", r.Tier, time.Since(r.Updated).Round(time.Second), wait.Round(time.Second))
	}
	l, err := Describe(current(params))
	if err != nil {
		return res, err
	}
	var stores []DB
	for _, s := range l.Shards {
		stores = append(stores, s.Writer)
	}
	stores = append(stores, l.Primary)
	for i, d := range stores {
		p, err := openDB(ctx, src, env, d, session{name: moverName, pool: 4})
		if err != nil {
			return res, err
		}
		s := &pgStore{name: d.Name, db: p.db}
		err = func() error {
			defer p.close()
			leaves := r.Tier == TierActivity || (r.Tier == TierShards && i == len(l.Shards))
			if err := s.uninstall(ctx, r.Tier, leaves); err != nil {
				return err
			}
			return retireRows(ctx, s, r.Tier, i, len(l.Shards), &res.Rows)
		}()
		if err != nil {
			return res, err
		}
	}
	b, _ := json.Marshal(Record{Tier: r.Tier, State: StateRetired, Gen: r.Gen, Rows: r.Rows, Shards: r.Shards, Updated: time.Now().UTC().Truncate(time.Millisecond)})
	if err := rec.SetParam(ctx, RecordPrefix+r.Tier, string(b)); err != nil {
		return res, err
	}
	res.Verified = true
	return res, nil
}

// retireRows deletes what store i (of shards, or the primary when i == shards) holds that
// lives elsewhere now.
func retireRows(ctx context.Context, s *pgStore, tier string, i, shards int, n *int64) error {
	switch {
	case tier == TierShards && i < shards:
		for _, t := range slices.Backward(movedTables) {
			k, err := s.removeNotHome(ctx, t, shards, i)
			if err != nil {
				return err
			}
			*n += k
		}
	case tier == TierShards && shards > 0:
		// The primary: every user lives on a shard now.
		for _, t := range slices.Backward(movedTables) {
			res, err := s.db.ExecContext(ctx, `DELETE FROM `+t.name)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			k, _ := res.RowsAffected()
			*n += k
		}
	case tier == TierActivity:
		res, err := s.db.ExecContext(ctx, `DELETE FROM activity`)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		k, _ := res.RowsAffected()
		*n += k
	}
	return nil
}
