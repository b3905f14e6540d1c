package app

import (
	"context"
	"crypto/md5"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

//go:embed movesql/capture.sql
var captureSQL string

// movedTable is one table a move carries, its columns in order and the column that names the
// row's user (the shard key). A row is keyed by its user and its id (a user's own id for
// users): ids are unique within a user, not across users.
type movedTable struct {
	name  string
	cols  []string // the columns, id first
	types []string // their SQL types
	user  string   // the user column
}

// movedTables are the app's tables in the order a move applies them: a post's user first.
var movedTables = []movedTable{
	{"users", []string{"id", "name", "created_at"}, []string{"bigint", "text", "timestamptz"}, "id"},
	{"posts", []string{"id", "user_id", "body", "created_at"}, []string{"bigint", "bigint", "text", "timestamptz"}, "user_id"},
	{"activity", []string{"id", "user_id", "kind", "created_at"}, []string{"bigint", "bigint", "text", "timestamptz"}, "user_id"},
}

// tablesOf returns the tables a tier's move carries.
func tablesOf(tier string) []movedTable {
	if tier == TierActivity {
		return movedTables[2:]
	}
	return movedTables
}

// activityChecked are the activity columns both PostgreSQL and DynamoDB hold as they are: the
// checksum of an activity move covers them (DynamoDB keeps the time in its sort key).
var activityChecked = []string{"id", "user_id", "kind"}

// row is one row as text, in its table's column order.
type row []string

// id and uid read a row's primary key and user.
func (t movedTable) id(r row) int64 { n, _ := strconv.ParseInt(r[0], 10, 64); return n }
func (t movedTable) uid(r row) int64 {
	for i, c := range t.cols {
		if c == t.user {
			n, _ := strconv.ParseInt(r[i], 10, 64)
			return n
		}
	}
	return 0
}

// selectList reads every column as text; the mover's sessions run in UTC, so times read back
// exactly as they were.
func (t movedTable) selectList() string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c + "::text"
	}
	return strings.Join(out, ", ")
}

// qualified is selectList with the table's name on each column, for queries that join.
func (t movedTable) qualified() string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = t.name + "." + c + "::text"
	}
	return strings.Join(out, ", ")
}

// pgStore is one PostgreSQL database a move reads from or writes to.
type pgStore struct {
	name string // primary, shard-1-writer
	key  string // host:port/database: two names for one database share it
	db   *sql.DB
}

// fencedState is the SQLSTATE a fenced store answers a write of an older generation with.
const fencedState = pqerror.Code("LMFNC")

// isFenced reports whether a write was refused by a fence: the tier has moved.
func isFenced(err error) bool { return pq.As(err, fencedState) != nil }

// install creates the log, the fence, the progress table and the capture triggers of a tier,
// idempotently. A trigger that is there already is left alone: replacing one would take an
// ACCESS EXCLUSIVE lock on a table the app is writing. Creating one takes SHARE ROW EXCLUSIVE,
// which waits for the writes under way and holds new ones for a moment; it gives up after
// five seconds rather than queue the app behind it.
func (s *pgStore) install(ctx context.Context, tier string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	defer tx.Rollback()
	for _, q := range []string{`SELECT pg_advisory_xact_lock(` + fmt.Sprint(migrationLock) + `)`, `SET LOCAL lock_timeout = '5s'`, captureSQL} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: installing the change capture: %w", s.name, err)
		}
	}
	for _, t := range tablesOf(tier) {
		trg := "llama_move_" + tier
		var there bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = $1 AND tgrelid = $2::regclass)`, trg, t.name).Scan(&there); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if there {
			continue
		}
		q := fmt.Sprintf(`CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION llama_move_capture(%s, %s)`,
			pq.QuoteIdentifier(trg), t.name, pq.QuoteLiteral(tier), pq.QuoteLiteral(t.user))
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: capture trigger on %s: %w", s.name, t.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// uninstall removes a tier's log entries and progress (the retire step), and unless the tier
// leaves the store for good, its triggers and fence too.
func (s *pgStore) uninstall(ctx context.Context, tier string, keepFence bool) error {
	if keepFence {
		for _, q := range []string{`DELETE FROM llama_move_log WHERE tier = $1`, `DELETE FROM llama_move_progress WHERE tier = $1`} {
			if _, err := s.db.ExecContext(ctx, q, tier); err != nil && !isUndefinedTable(err) {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		return nil
	}
	for _, t := range tablesOf(tier) {
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`DROP TRIGGER IF EXISTS %s ON %s`, pq.QuoteIdentifier("llama_move_"+tier), t.name)); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	for _, q := range []string{`DELETE FROM llama_move_log WHERE tier = $1`, `DELETE FROM llama_move_progress WHERE tier = $1`, `DELETE FROM llama_move_fence WHERE tier = $1`} {
		if _, err := s.db.ExecContext(ctx, q, tier); err != nil && !isUndefinedTable(err) {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// fence refuses, from now on, the writes of a tier's generations below gen. The table lock
// waits for the writes already running to commit (they are in the log), and new ones queue
// behind it until the fence is in place.
func (s *pgStore) fence(ctx context.Context, tier string, gen int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	defer tx.Rollback()
	names := make([]string, 0, 3)
	for _, t := range tablesOf(tier) {
		names = append(names, t.name)
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("%s: fencing: %w", s.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO llama_move_fence (tier, min_gen) VALUES ($1, $2)
		ON CONFLICT (tier) DO UPDATE SET min_gen = GREATEST(llama_move_fence.min_gen, EXCLUDED.min_gen)`, tier, gen); err != nil {
		return fmt.Errorf("%s: fencing: %w", s.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: fencing: %w", s.name, err)
	}
	return nil
}

// unfence lowers a fence set by a switch that did not complete.
func (s *pgStore) unfence(ctx context.Context, tier string, gen int) error {
	_, err := s.db.ExecContext(ctx, `UPDATE llama_move_fence SET min_gen = $2 WHERE tier = $1`, tier, gen)
	return err
}

// logEntry is one captured change: a row of a table, and its user.
type logEntry struct {
	seq     int64
	tbl     string
	id, uid int64
}

// pending counts a tier's captured changes not yet applied.
func (s *pgStore) pending(ctx context.Context, tier string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM llama_move_log WHERE tier = $1`, tier).Scan(&n)
	if isUndefinedTable(err) {
		return 0, nil
	}
	return n, err
}

// readLog returns up to limit of a tier's oldest captured changes.
func (s *pgStore) readLog(ctx context.Context, tier string, limit int) ([]logEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, tbl, id, uid FROM llama_move_log WHERE tier = $1 ORDER BY seq LIMIT $2`, tier, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the change log: %w", s.name, err)
	}
	defer rows.Close()
	var out []logEntry
	for rows.Next() {
		var e logEntry
		if err := rows.Scan(&e.seq, &e.tbl, &e.id, &e.uid); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// dropLog removes applied changes.
func (s *pgStore) dropLog(ctx context.Context, seqs []int64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM llama_move_log WHERE seq = ANY($1)`, pq.Array(seqs))
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// rkey is a row's key: its user and its id.
type rkey struct{ uid, id int64 }

// keyArrays splits keys into the two arrays the queries take.
func keyArrays(keys []rkey) (any, any) {
	uids, ids := make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		uids[i], ids[i] = k.uid, k.id
	}
	return pq.Array(uids), pq.Array(ids)
}

// rows reads the rows of a table with the given keys, as they are now.
func (s *pgStore) rows(ctx context.Context, t movedTable, keys []rkey) ([]row, error) {
	uids, ids := keyArrays(keys)
	return s.query(ctx, t, `SELECT `+t.qualified()+` FROM `+t.name+` JOIN unnest($1::bigint[], $2::bigint[]) AS k(u, i)
		ON `+t.name+`.`+t.user+` = k.u AND `+t.name+`.id = k.i`, uids, ids)
}

// scan reads up to limit rows of a table after a key, in key order: the primary key's, so
// the index serves it. (Columns are named with the table: a bare "id" in ORDER BY would name
// the output column, id::text, and sort as text.)
func (s *pgStore) scan(ctx context.Context, t movedTable, after rkey, limit int) ([]row, error) {
	if t.user == "id" {
		return s.query(ctx, t, `SELECT `+t.qualified()+` FROM `+t.name+` WHERE `+t.name+`.id > $1 ORDER BY `+t.name+`.id LIMIT $2`, after.id, limit)
	}
	u, i := t.name+"."+t.user, t.name+".id"
	return s.query(ctx, t, `SELECT `+t.qualified()+` FROM `+t.name+` WHERE (`+u+`, `+i+`) > ($1, $2) ORDER BY `+u+`, `+i+` LIMIT $3`, after.uid, after.id, limit)
}

// key returns a row's key.
func (t movedTable) key(r row) rkey { return rkey{t.uid(r), t.id(r)} }

// keyCols are the columns of the table's primary key.
func (t movedTable) keyCols() string {
	if t.user == "id" {
		return "id"
	}
	return t.user + ", id"
}

func (s *pgStore) query(ctx context.Context, t movedTable, q string, args ...any) ([]row, error) {
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", s.name, t.name, err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		r := make(row, len(t.cols))
		ptrs := make([]any, len(r))
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: reading %s: %w", s.name, t.name, err)
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// upsert writes rows as they are on the store they come from: insert, or update in place.
// Applying a row twice leaves it as applying it once, so a move can stop and run again.
func (s *pgStore) upsert(ctx context.Context, t movedTable, rs []row) error {
	if len(rs) == 0 {
		return nil
	}
	args := make([]any, len(t.cols))
	sel := make([]string, len(t.cols))
	set := make([]string, 0, len(t.cols))
	for i, c := range t.cols {
		col := make([]string, len(rs))
		for j, r := range rs {
			col[j] = r[i]
		}
		args[i] = pq.Array(col)
		sel[i] = fmt.Sprintf("$%d::text[]::%s[]", i+1, t.types[i])
		if c != "id" && c != t.user {
			set = append(set, c+" = EXCLUDED."+c)
		}
	}
	q := fmt.Sprintf(`INSERT INTO %s (%s) SELECT * FROM unnest(%s) ON CONFLICT (%s) DO UPDATE SET %s`,
		t.name, strings.Join(t.cols, ", "), strings.Join(sel, ", "), t.keyCols(), strings.Join(set, ", "))
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("%s: writing %s: %w", s.name, t.name, err)
	}
	return nil
}

// remove deletes rows by key.
func (s *pgStore) remove(ctx context.Context, t movedTable, keys []rkey) error {
	uids, ids := keyArrays(keys)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM `+t.name+` USING unnest($1::bigint[], $2::bigint[]) AS k(u, i)
		WHERE `+t.name+`.`+t.user+` = k.u AND `+t.name+`.id = k.i`, uids, ids); err != nil {
		return fmt.Errorf("%s: deleting from %s: %w", s.name, t.name, err)
	}
	return nil
}

// removeNotHome deletes the rows whose user's home is not this store: what a shard move left
// behind (the retire step).
func (s *pgStore) removeNotHome(ctx context.Context, t movedTable, mod, rem int) (int64, error) {
	res, err := s.db.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE (%s %% $1) <> $2`, t.name, t.user), mod, rem)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.name, err)
	}
	return res.RowsAffected()
}

// progress is the last key copied of a table; zero before the copy starts.
func (s *pgStore) progress(ctx context.Context, tier, tbl string) (rkey, error) {
	var last rkey
	err := s.db.QueryRowContext(ctx, `SELECT last_uid, last_id FROM llama_move_progress WHERE tier = $1 AND tbl = $2`, tier, tbl).Scan(&last.uid, &last.id)
	if errors.Is(err, sql.ErrNoRows) {
		return rkey{}, nil
	}
	return last, err
}

func (s *pgStore) setProgress(ctx context.Context, tier, tbl string, last rkey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO llama_move_progress (tier, tbl, last_uid, last_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tier, tbl) DO UPDATE SET last_uid = EXCLUDED.last_uid, last_id = EXCLUDED.last_id`, tier, tbl, last.uid, last.id)
	return err
}

// aggregate is a table's row count and an order-independent checksum of its rows: the sum of
// the first 60 bits of each row's MD5.
type aggregate struct {
	rows int64
	sum  *big.Int
}

func newAggregate() aggregate { return aggregate{sum: new(big.Int)} }

func (a *aggregate) add(b aggregate) { a.rows += b.rows; a.sum.Add(a.sum, b.sum) }

func (a aggregate) equal(b aggregate) bool { return a.rows == b.rows && a.sum.Cmp(b.sum) == 0 }

func (a aggregate) String() string { return fmt.Sprintf("%d rows, checksum %s", a.rows, a.sum) }

// rowSum is one row's contribution to the checksum, as SQL computes it in checksum.
func rowSum(fields ...string) *big.Int {
	h := md5.Sum([]byte(strings.Join(fields, "|")))
	n, _ := new(big.Int).SetString(hex.EncodeToString(h[:])[:15], 16)
	return n
}

// checksum aggregates the rows of a table whose user's id mod mod is rem, over cols.
func (s *pgStore) checksum(ctx context.Context, t movedTable, cols []string, mod, rem int) (aggregate, error) {
	return checksumOn(ctx, s.db, s.name, t, cols, mod, rem, nil)
}

// count is a table's row count; 0 where the schema is not applied yet.
func (s *pgStore) count(ctx context.Context, t movedTable) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&n)
	if isUndefinedTable(err) {
		return 0, nil
	}
	return n, err
}
