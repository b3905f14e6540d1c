package app

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Verifying a move behind the fence costs the write pause, so it is split: before the fence,
// while the app writes on, preVerify compares every row that has no change pending (read in
// one snapshot per source: a settled row is where the mover put it, and stays so unless a new
// change, which the log captures, touches it); behind the fence, verifyTouched compares only
// the rows changed since (the log entries drained after the snapshot, and those pending in
// it). The pause then grows with the writes of a second or so, not with the tables.

// maxPending is the most pending changes preVerify leaves out; with more, the move verifies
// everything behind the fence.
const maxPending = 50000

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// settledSet is what preVerify left out: per table, the keys that had a change pending.
type settledSet map[string][]rkey

// preVerify compares the rows with no change pending, per destination and table, and returns
// the keys it left out; ok is false when it could not (too many pending, or DynamoDB).
func (l *link) preVerify(ctx context.Context, d direction) (settledSet, int64, bool, error) {
	if l.dyn != nil {
		return nil, 0, false, nil
	}
	from, to := l.ends(d)
	txs := map[*pgStore]*sql.Tx{}
	defer func() {
		for _, tx := range txs {
			tx.Rollback()
		}
	}()
	pending, n := settledSet{}, 0
	for _, s := range from {
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return nil, 0, false, fmt.Errorf("%s: %w", s.name, err)
		}
		txs[s] = tx
		got, err := l.pendingOn(ctx, tx, s, pending)
		if err != nil {
			return nil, 0, false, err
		}
		n += got
	}
	if n > maxPending {
		return nil, 0, false, nil
	}
	var settled int64
	for i, dst := range to {
		rows, err := l.compareSettled(ctx, txs, from, dst, len(to), i, pending)
		if err != nil {
			return nil, 0, false, err
		}
		settled += rows
	}
	return pending, settled, true, nil
}

// pendingOn adds to pending the keys with a change the log still holds on a source, read in
// the source's snapshot tx, and returns how many (at most maxPending+1).
func (l *link) pendingOn(ctx context.Context, tx *sql.Tx, s *pgStore, pending settledSet) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT tbl, uid, id FROM llama_move_log WHERE tier = $1 LIMIT $2`, l.tier, maxPending+1)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.name, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tbl string
		var k rkey
		if err := rows.Scan(&tbl, &k.uid, &k.id); err != nil {
			return 0, err
		}
		pending[tbl] = append(pending[tbl], k)
		n++
	}
	return n, rows.Err()
}

// compareSettled compares, table by table, the rows destination i of mod should hold with no
// change pending against what it holds, each source read in its snapshot; it returns the rows
// compared.
func (l *link) compareSettled(ctx context.Context, txs map[*pgStore]*sql.Tx, from []*pgStore, dst *pgStore, mod, i int, pending settledSet) (int64, error) {
	var settled int64
	for _, t := range l.tables {
		want := newAggregate()
		for _, s := range from {
			a, err := checksumOn(ctx, txs[s], s.name, t, t.cols, mod, i, pending[t.name])
			if err != nil {
				return 0, err
			}
			want.add(a)
		}
		var q querier = dst.db
		if tx, ok := txs[dst]; ok {
			q = tx // a store that is source and destination: one snapshot
		}
		got, err := checksumOn(ctx, q, dst.name, t, t.cols, mod, i, pending[t.name])
		if err != nil {
			return 0, err
		}
		settled += got.rows
		if !want.equal(got) {
			return 0, fmt.Errorf("%s on %s, rows with no change pending: the source holds %s, %s holds %s%s", t.name, dst.name, want, dst.name, got, differing(ctx, from, dst, t, mod, i))
		}
	}
	return settled, nil
}

// checksumOn aggregates, over cols, the rows of a table whose user's id mod mod is rem,
// leaving out keys: their count and the sum of the first 60 bits of each row's MD5 (rowSum
// computes the same for a row read elsewhere).
func checksumOn(ctx context.Context, q querier, name string, t movedTable, cols []string, mod, rem int, leave []rkey) (aggregate, error) {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "t." + c + "::text"
	}
	uids, ids := keyArrays(leave)
	query := fmt.Sprintf(`SELECT count(*), coalesce(sum(('x' || substr(md5(concat_ws('|', %s)), 1, 15))::bit(60)::bigint), 0)::text
		FROM %s t WHERE (t.%s %% $1) = $2
		AND NOT EXISTS (SELECT 1 FROM unnest($3::bigint[], $4::bigint[]) AS k(u, i) WHERE k.u = t.%s AND k.i = t.id)`,
		strings.Join(parts, ", "), t.name, t.user, t.user)
	a := newAggregate()
	var sum string
	if err := q.QueryRowContext(ctx, query, mod, rem, uids, ids).Scan(&a.rows, &sum); err != nil {
		return a, fmt.Errorf("%s: checksum of %s: %w", name, t.name, err)
	}
	a.sum.SetString(sum, 10)
	return a, nil
}

// verifyTouched compares, row by row, the rows changed since preVerify: each on its home
// among the sources and among the destinations. It returns how many the destinations hold.
func (l *link) verifyTouched(ctx context.Context, d direction, keys settledSet) (int64, error) {
	from, to := l.ends(d)
	var n int64
	for _, t := range l.tables {
		ks := slices.Clone(keys[t.name])
		slices.SortFunc(ks, func(a, b rkey) int {
			if a.uid != b.uid {
				return cmpInt(a.uid, b.uid)
			}
			return cmpInt(a.id, b.id)
		})
		ks = slices.Compact(ks)
		src, err := rowsByHome(ctx, from, t, ks)
		if err != nil {
			return n, err
		}
		dst, err := rowsByHome(ctx, to, t, ks)
		if err != nil {
			return n, err
		}
		for _, k := range ks {
			a, b := src[k], dst[k]
			if b != nil {
				n++
			}
			if strings.Join(a, "|") != strings.Join(b, "|") {
				return n, fmt.Errorf("%s row %d of user %d: the source holds %q, the destination %q", t.name, k.id, k.uid, a, b)
			}
		}
	}
	return n, nil
}

// rowsByHome reads rows by key, each from its user's home among stores.
func rowsByHome(ctx context.Context, stores []*pgStore, t movedTable, keys []rkey) (map[rkey]row, error) {
	by := map[*pgStore][]rkey{}
	for _, k := range keys {
		h := homeIn(stores, k.uid)
		by[h] = append(by[h], k)
	}
	out := map[rkey]row{}
	for s, ks := range by {
		rs, err := s.rows(ctx, t, ks)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out[t.key(r)] = r
		}
	}
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
