package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The moves' tests run the mover against fresh PostgreSQL servers (a "box" and an "RDS", a
// primary and shards) and dynalite, with a load of writes and reads running through the app
// the whole time, and check what the issue asks: every acknowledged write is on its new home
// (and, after a move back, on the old one), counts and checksums match, no read got a 5xx.

// freshPG starts a PostgreSQL server of the test's own.
func freshPG(t testing.TB, name string) *proc {
	t.Helper()
	need(t, true, false, false)
	dir, err := os.MkdirTemp("", "llama-move-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	p, err := startPostgres(dir, pgBin(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		if os.Getenv("LLAMA_TEST_KEEP") == "" {
			os.RemoveAll(dir)
		}
	})
	return p
}

// dbParams are a database's parameters under prefix (db/ or next/db/).
func dbParams(prefix string, p *proc) map[string]string {
	return map[string]string{prefix + "primary/endpoint": p.addr(), prefix + "port": "5432", prefix + "name": "llama",
		prefix + "user": pgUser, prefix + "secretArn": dbSecret}
}

// shardParams are a shard map's parameters under prefix (shards/ or next/shards/).
func shardParams(prefix string, ps ...*proc) map[string]string {
	out := map[string]string{prefix + "count": strconv.Itoa(len(ps))}
	for i, p := range ps {
		out[fmt.Sprintf("%s%d/writer", prefix, i)], out[fmt.Sprintf("%s%d/secretArn", prefix, i)] = p.addr(), dbSecret
	}
	return out
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// moveEnv is the AWS environment of the app and the mover (dynalite where a test uses it).
func moveEnv(t testing.TB) Env {
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	return Env{AWS: cfg, Region: "us-east-1"}
}

// liveApp runs the app on a parameter file, following it as a deployed app follows SSM.
func liveApp(t testing.TB, path string) string {
	t.Helper()
	logOut := io.Discard
	if p := os.Getenv("LLAMA_TEST_APPLOG"); p != "" {
		logOut, _ = os.Create(p)
	}
	_, base := serveApp(t, LocalFile(path), Options{Env: moveEnv(t), Refresh: time.Second, MoveRefresh: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logOut, nil))})
	return base
}

// seed writes users and posts straight into a store, ids spread as the app's are.
func seed(t testing.TB, db *sql.DB, users, postsPer int) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO users (id, name) SELECT g * 4099, 'seed-' || g FROM generate_series(1, $1) g`, users); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO posts (id, user_id, body) SELECT u.id * 64 + p, u.id, 'seeded post' FROM users u, generate_series(1, $1) p`, postsPer); err != nil {
		t.Fatal(err)
	}
}

// load is a steady stream of writes and reads through the app.
type load struct {
	base   string
	client *http.Client
	act    bool

	mu         sync.Mutex
	users      []int64
	posts      map[int64]int64 // acknowledged post -> its user
	acts       map[int64]int64 // acknowledged activity -> its user
	acked      int
	refused    int // writes answered 503 (not acknowledged: allowed while a switch drains)
	readErrors []string
	maxWrite   time.Duration

	stop chan struct{}
	wg   sync.WaitGroup
}

// startLoad runs writers at about rate writes a second in total, and two readers.
func startLoad(t testing.TB, base string, users []int64, rate int, activity bool) *load {
	l := &load{base: base, act: activity, users: users, posts: map[int64]int64{}, acts: map[int64]int64{}, stop: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	const writers = 8
	for w := 0; w < writers; w++ {
		l.wg.Add(1)
		go l.writer(time.Second * writers / time.Duration(rate))
	}
	for r := 0; r < 2; r++ {
		l.wg.Add(1)
		go l.reader()
	}
	t.Cleanup(l.halt)
	return l
}

func (l *load) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

func (l *load) pick() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.users[rand.IntN(len(l.users))]
}

func (l *load) post(path, body string) (int, int64) {
	start := time.Now()
	res, err := l.client.Post(l.base+path, "application/json", strings.NewReader(body))
	took := time.Since(start)
	if err != nil {
		return 0, 0
	}
	defer res.Body.Close()
	var doc struct{ ID int64 }
	json.NewDecoder(res.Body).Decode(&doc)
	l.mu.Lock()
	if res.StatusCode/100 == 2 {
		l.acked++
		l.maxWrite = max(l.maxWrite, took)
	} else {
		l.refused++
	}
	l.mu.Unlock()
	return res.StatusCode, doc.ID
}

func (l *load) writer(every time.Duration) {
	defer l.wg.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		switch {
		case n%3 == 0:
			if code, id := l.post("/users", `{"name": "load"}`); code == 201 {
				l.mu.Lock()
				l.users = append(l.users, id)
				l.mu.Unlock()
			}
		case n%3 == 1 || !l.act:
			u := l.pick()
			if code, id := l.post(fmt.Sprintf("/users/%d/posts", u), `{"body": "under load"}`); code == 201 {
				l.mu.Lock()
				l.posts[id] = u
				l.mu.Unlock()
			}
		default:
			u := l.pick()
			if code, id := l.post(fmt.Sprintf("/users/%d/activity", u), `{"kind": "view"}`); code == 202 {
				l.mu.Lock()
				l.acts[id] = u
				l.mu.Unlock()
			}
		}
	}
}

func (l *load) reader() {
	defer l.wg.Done()
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		path := fmt.Sprintf("/users/%d", l.pick())
		if n%2 == 1 {
			path += "/posts"
		}
		res, err := l.client.Get(l.base + path)
		if err != nil {
			l.mu.Lock()
			l.readErrors = append(l.readErrors, path+": "+err.Error())
			l.mu.Unlock()
			continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			l.mu.Lock()
			l.readErrors = append(l.readErrors, fmt.Sprintf("%s: %d", path, res.StatusCode))
			l.mu.Unlock()
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// check asserts what every move promises of the load: reads never failed, and every
// acknowledged user and post is on its home among homes (user id mod len(homes)).
func (l *load) check(t testing.TB, what string, homes ...*sql.DB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.readErrors) > 0 {
		t.Errorf("%s: %d reads failed, first: %s", what, len(l.readErrors), l.readErrors[0])
	}
	if l.acked < 100 {
		t.Errorf("%s: only %d writes were acknowledged: the load did not run", what, l.acked)
	}
	want := map[*sql.DB]map[string][]rkey{}
	add := func(tbl string, id, uid int64) {
		h := homes[uint64(uid)%uint64(len(homes))]
		if want[h] == nil {
			want[h] = map[string][]rkey{}
		}
		want[h][tbl] = append(want[h][tbl], rkey{uid, id})
	}
	for _, u := range l.users {
		add("users", u, u)
	}
	for p, u := range l.posts {
		add("posts", p, u)
	}
	for h, tbls := range want {
		for tbl, keys := range tbls {
			user := "user_id"
			if tbl == "users" {
				user = "id"
			}
			uids, ids := keyArrays(keys)
			var n int
			if err := h.QueryRow(`SELECT count(*) FROM `+tbl+` t JOIN unnest($1::bigint[], $2::bigint[]) AS k(u, i) ON t.`+user+` = k.u AND t.id = k.i`, uids, ids).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != len(keys) {
				t.Errorf("%s: %d of %d acknowledged %s are not on their home", what, len(keys)-n, len(keys), tbl)
			}
		}
	}
	t.Logf("%s: %d writes acknowledged, %d answered 503, longest acknowledged write %v", what, l.acked, l.refused, l.maxWrite)
}

// move runs the mover in-process and requires a verified result.
func move(t testing.TB, path, tier string, back bool) MoveResult {
	t.Helper()
	res, err := Move(context.Background(), LocalFile(path), LocalFile(path), moveEnv(t), tier, MoveOptions{Back: back})
	if err != nil || !res.Verified {
		t.Fatalf("move %s (back %v): %+v, %v", tier, back, res, err)
	}
	return res
}

func status(t testing.TB, path string) []TierStatus {
	t.Helper()
	sts, err := Status(context.Background(), LocalFile(path), moveEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	return sts
}

func record(t testing.TB, path, tier string) Record {
	t.Helper()
	ps, err := LocalFile(path).Params(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := readRecord(ps, tier)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// expand publishes next/ keys as the expand `pulumi up` does.
func expand(t testing.TB, path string, next map[string]string) {
	t.Helper()
	for k, v := range next {
		if err := LocalFile(path).SetParam(context.Background(), k, v); err != nil {
			t.Fatal(err)
		}
	}
}

func usersOf(t testing.TB, db *sql.DB) []int64 {
	rows, err := db.Query(`SELECT id FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

// dbMoveSetup starts a "box" and an "RDS", the app on the box with seeded users and posts, and
// publishes RDS under next/db/ as the expand pulumi up does.
func dbMoveSetup(t testing.TB, users, posts int) (path, base string, boxDB, rdsDB *sql.DB) {
	t.Helper()
	box, rds := freshPG(t, "box"), freshPG(t, "rds")
	path = writeLocal(t, dbParams("db/", box))
	base = liveApp(t, path)
	boxDB, rdsDB = sqlOn(t, box), sqlOn(t, rds)
	seed(t, boxDB, users, posts)
	expand(t, path, dbParams("next/db/", rds))
	return path, base, boxDB, rdsDB
}

// TestMoveDBForwardAndBack: the box's PostgreSQL moves to "RDS" under load, runs there a
// while (the box kept current), and moves back; no acknowledged write is lost either way.
func TestMoveDBForwardAndBack(t *testing.T) {
	box, rds := freshPG(t, "box"), freshPG(t, "rds")
	path := writeLocal(t, dbParams("db/", box))
	base := liveApp(t, path)
	boxDB, rdsDB := sqlOn(t, box), sqlOn(t, rds)
	seed(t, boxDB, 5000, 3)
	if sts := status(t, path); len(sts) != 0 {
		t.Errorf("status before the expand: %+v", sts)
	}
	expand(t, path, dbParams("next/db/", rds))
	if sts := status(t, path); len(sts) != 1 || sts[0].State != StateExpanded || sts[0].Next != "llama-app move db" || sts[0].Rows["old"]["users"] != 5000 {
		t.Errorf("status after the expand: %+v", sts)
	}

	l := startLoad(t, base, usersOf(t, boxDB), 300, true)
	time.Sleep(500 * time.Millisecond)
	res := move(t, path, TierDB, false)
	if r := record(t, path, TierDB); r.State != StateSwitched || r.Gen != 1 {
		t.Fatalf("record after the switch: %+v", r)
	}
	if sts := status(t, path); len(sts) != 1 || sts[0].State != StateSwitched || !strings.HasPrefix(sts[0].Next, "pulumi config set llama:moved db && pulumi up") ||
		sts[0].Undo != "llama-app move db --back" || sts[0].Rows["new"]["users"] < 5000 {
		t.Errorf("status after the switch: %+v", sts)
	}
	time.Sleep(2 * time.Second) // the app on RDS, the box kept current behind it
	l.halt()
	l.check(t, "forward", rdsDB)
	t.Logf("forward: %+v", res)
	if res.Rows < 20000 {
		t.Errorf("the move verified %d rows, want the seeded 20,000 and more", res.Rows)
	}
	// After the switch the box is kept current: everything acknowledged is there too.
	eventually(t, 10*time.Second, "the box catching up", func() error {
		var n int64
		boxDB.QueryRow(`SELECT count(*) FROM llama_move_log`).Scan(&n)
		var m int64
		rdsDB.QueryRow(`SELECT count(*) FROM llama_move_log WHERE tier = 'db'`).Scan(&m)
		if m > 0 {
			return fmt.Errorf("%d changes not yet on the box", m)
		}
		return nil
	})
	l.check(t, "forward, the old tier kept current", boxDB)

	// A write straight to the fenced box (an instance that has not followed) is refused.
	_, err := boxDB.Exec(`SET application_name = 'llama-app db=0'; INSERT INTO users (id, name) VALUES (7, 'late')`)
	if !isFenced(err) {
		t.Errorf("a write of generation 0 to the fenced box: %v, want the fence's refusal", err)
	}

	l2 := startLoad(t, base, usersOf(t, rdsDB), 300, true)
	time.Sleep(500 * time.Millisecond)
	back := move(t, path, TierDB, true)
	time.Sleep(time.Second)
	l2.halt()
	l2.check(t, "back", boxDB)
	t.Logf("back: %+v", back)
	if r := record(t, path, TierDB); r.State != StateBack || r.Gen != 2 {
		t.Fatalf("record after the move back: %+v", r)
	}
	if sts := status(t, path); len(sts) != 1 || sts[0].State != StateBack || !strings.HasPrefix(sts[0].Next, "llama-app move db") {
		t.Errorf("status after the move back: %+v", sts)
	}
	// A second mover of the same tier is refused while one runs, and --back from back is a no-op.
	if again, err := Move(context.Background(), LocalFile(path), LocalFile(path), moveEnv(t), TierDB, MoveOptions{Back: true}); err != nil || !again.Verified {
		t.Errorf("move back again: %+v %v", again, err)
	}
	// And forward again, which needs no copy: the log holds what changed since the move back.
	again := move(t, path, TierDB, false)
	if again.Copied != 0 {
		t.Errorf("forward again copied %d rows, want none", again.Copied)
	}
}

// TestMoveShards: the primary's users move to two shards under load (and back), then the
// two shards grow to four; every acknowledged row is on shard userId mod count.
func TestMoveShards(t *testing.T) {
	primary, s0, s1, s2, s3 := freshPG(t, "primary"), freshPG(t, "s0"), freshPG(t, "s1"), freshPG(t, "s2"), freshPG(t, "s3")
	path := writeLocal(t, dbParams("db/", primary))
	base := liveApp(t, path)
	pdb := sqlOn(t, primary)
	seed(t, pdb, 3000, 2)
	expand(t, path, shardParams("next/shards/", s0, s1))

	l := startLoad(t, base, usersOf(t, pdb), 300, true)
	time.Sleep(500 * time.Millisecond)
	res := move(t, path, TierShards, false)
	time.Sleep(2 * time.Second)
	l.halt()
	l.check(t, "0 -> 2", sqlOn(t, s0), sqlOn(t, s1))
	t.Logf("0 -> 2: %+v", res)

	l2 := startLoad(t, base, slices.Clone(l.users), 300, true)
	time.Sleep(time.Second)
	back := move(t, path, TierShards, true)
	time.Sleep(time.Second)
	l2.halt()
	l2.check(t, "2 -> 0 (back)", pdb)
	t.Logf("back: %+v", back)

	// Forward again and retire: the stack now publishes the two shards as current.
	move(t, path, TierShards, false)
	ps, _ := LocalFile(path).Params(context.Background())
	next := map[string]string{}
	for k, v := range ps {
		if rest, ok := strings.CutPrefix(k, "next/"); ok {
			next[rest] = v
		}
	}
	for k := range next {
		delete(ps, "next/"+k)
	}
	for k, v := range next {
		ps[k] = v
	}
	rewrite(t, path, ps)
	// The retire step waits until every instance has followed the switch.
	if _, err := Move(context.Background(), LocalFile(path), LocalFile(path), moveEnv(t), TierShards, MoveOptions{Retire: true}); err == nil {
		t.Fatal("the retire step ran right after the switch, before the instances could follow it")
	}
	if _, err := Move(context.Background(), LocalFile(path), LocalFile(path), moveEnv(t), TierShards, MoveOptions{Retire: true, Grace: 1500 * time.Millisecond}); err == nil {
		t.Fatal("the retire step ran inside its grace")
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := Move(context.Background(), LocalFile(path), LocalFile(path), moveEnv(t), TierShards, MoveOptions{Retire: true, Grace: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var left int
	pdb.QueryRow(`SELECT count(*) FROM users`).Scan(&left)
	if left != 0 {
		t.Errorf("the primary still holds %d users after the retire", left)
	}

	for i, db := range []*sql.DB{sqlOn(t, s0), sqlOn(t, s1)} {
		var wrong int
		db.QueryRow(`SELECT count(*) FROM users WHERE id % 2 <> $1`, i).Scan(&wrong)
		if wrong > 0 {
			t.Errorf("after the retire, shard %d holds %d users of the other shard", i, wrong)
		}
	}
	// Growth: 2 -> 4. Users whose shard changes move; the others stay where they are.
	expand(t, path, shardParams("next/shards/", s0, s1, s2, s3))
	l3 := startLoad(t, base, usersOf(t, sqlOn(t, s0)), 300, true)
	time.Sleep(500 * time.Millisecond)
	grow := move(t, path, TierShards, false)
	time.Sleep(2 * time.Second)
	l3.halt()
	l3.check(t, "2 -> 4", sqlOn(t, s0), sqlOn(t, s1), sqlOn(t, s2), sqlOn(t, s3))
	t.Logf("2 -> 4: %+v", grow)
}

// rewrite replaces a parameter file's params.
func rewrite(t testing.TB, path string, params map[string]string) {
	t.Helper()
	b, _ := os.ReadFile(path)
	var doc map[string]json.RawMessage
	json.Unmarshal(b, &doc)
	doc["params"], _ = json.Marshal(params)
	out, _ := json.Marshal(doc)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMoveActivity: activity moves from PostgreSQL to DynamoDB under load and back.
func TestMoveActivity(t *testing.T) {
	e := need(t, true, false, true)
	ddb := dynamoClient(t, e)
	name := fmt.Sprintf("llama-move-activity-%d", time.Now().UnixNano())
	_, err := ddb.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("userId"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("createdAt"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("userId"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("createdAt"), KeyType: types.KeyTypeRange}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pg := freshPG(t, "activity")
	path := writeLocal(t, dbParams("db/", pg))
	base := liveApp(t, path)
	db := sqlOn(t, pg)
	seed(t, db, 500, 1)
	if _, err := db.Exec(`INSERT INTO activity (id, user_id, kind) SELECT u.id * 64 + 9, u.id, 'seeded' FROM users u`); err != nil {
		t.Fatal(err)
	}
	expand(t, path, map[string]string{"next/tables/names": name, "next/tables/activity/name": name,
		"next/tables/activity/partitionKey": "userId", "next/tables/activity/sortKey": "createdAt"})

	l := startLoad(t, base, usersOf(t, db), 150, true)
	time.Sleep(500 * time.Millisecond)
	res := move(t, path, TierActivity, false)
	time.Sleep(2 * time.Second)
	l.halt()
	l.check(t, "activity forward", db)
	t.Logf("forward: %+v", res)
	store := &dynStore{tb: &table{client: ddb, name: name, partition: "userId", sort: "createdAt"}}
	items, err := store.items(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[rkey]bool{}
	for _, it := range items {
		inTable[rkey{it.uid, it.id}] = true
	}
	lost := 0
	for id, u := range l.acts {
		if !inTable[rkey{u, id}] {
			lost++
		}
	}
	if lost > 0 || len(l.acts) == 0 {
		t.Errorf("%d of %d acknowledged activities are not in DynamoDB", lost, len(l.acts))
	}

	l2 := startLoad(t, base, slices.Clone(l.users), 150, true)
	time.Sleep(time.Second)
	back := move(t, path, TierActivity, true)
	time.Sleep(time.Second)
	l2.halt()
	t.Logf("back: %+v", back)
	var keys []rkey
	for id, u := range l.acts {
		keys = append(keys, rkey{u, id})
	}
	for id, u := range l2.acts {
		keys = append(keys, rkey{u, id})
	}
	uids, ids := keyArrays(keys)
	var n int
	db.QueryRow(`SELECT count(*) FROM activity a JOIN unnest($1::bigint[], $2::bigint[]) AS k(u, i) ON a.user_id = k.u AND a.id = k.i`, uids, ids).Scan(&n)
	if n != len(keys) {
		t.Errorf("after the move back, %d of %d acknowledged activities are not in PostgreSQL", len(keys)-n, len(keys))
	}
	l2.check(t, "activity back", db)
}

// TestMoveResumesAfterKill: a mover killed with SIGKILL mid-copy runs again, resumes and
// ends where an uninterrupted one would.
func TestMoveResumesAfterKill(t *testing.T) {
	path, base, boxDB, rdsDB := dbMoveSetup(t, 40000, 4)
	l := startLoad(t, base, usersOf(t, boxDB), 200, false)

	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "LLAMA_TEST_MOVER=db", "LLAMA_LOCAL="+path, "LLAMA_TEST_BATCH=500")
	out, _ := os.Create(filepath.Join(t.TempDir(), "mover.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the copy under way", func() error {
		var n int
		rdsDB.QueryRow(`SELECT count(*) FROM posts`).Scan(&n)
		if n < 1000 {
			return fmt.Errorf("%d posts copied", n)
		}
		return nil
	})
	cmd.Process.Kill()
	cmd.Wait()
	if r := record(t, path, TierDB); r.State != StateCopying {
		t.Fatalf("killed mid-copy, the record says %+v", r)
	}
	var before int
	rdsDB.QueryRow(`SELECT count(*) FROM posts`).Scan(&before)
	res := move(t, path, TierDB, false)
	time.Sleep(time.Second)
	l.halt()
	l.check(t, "after kill -9 and a second run", rdsDB)
	if res.Copied >= 200000 {
		t.Errorf("the second run copied %d rows: it started over instead of resuming (%d posts were there)", res.Copied, before)
	}
	t.Logf("killed with %d posts copied; the second run copied %d more and verified %d rows", before, res.Copied, res.Rows)
}

// runTestMover is the mover as a separate process, for the kill -9 test.
func runTestMover() int {
	batch, _ := strconv.Atoi(os.Getenv("LLAMA_TEST_BATCH"))
	cfg, _ := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	src := LocalFile(os.Getenv("LLAMA_LOCAL"))
	_, err := Move(context.Background(), src, src, Env{AWS: cfg, Region: "us-east-1"}, os.Getenv("LLAMA_TEST_MOVER"),
		MoveOptions{Batch: batch, Progress: os.Stderr, Back: os.Getenv("LLAMA_TEST_BACK") != ""})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestMoveRefuses: a move does not start on a store that holds rows or has another schema,
// and a difference found before the switch stops it, names the row, and leaves the app
// writing where it did.
func TestMoveRefuses(t *testing.T) {
	path, base, boxDB, rdsDB := dbMoveSetup(t, 100, 1)
	if _, err := Migrate(context.Background(), rdsDB); err != nil {
		t.Fatal(err)
	}
	try := func() error {
		_, err := Move(context.Background(), LocalFile(path), LocalFile(path), moveEnv(t), TierDB, MoveOptions{})
		return err
	}
	rdsDB.Exec(`INSERT INTO users (id, name) VALUES (1, 'already here')`)
	if err := try(); err == nil || !strings.Contains(err.Error(), "already holds 1 rows of users") {
		t.Errorf("a move onto a store with rows: %v", err)
	}
	rdsDB.Exec(`DELETE FROM users`)
	rdsDB.Exec(`ALTER TABLE users ADD COLUMN nickname text`)
	if err := try(); err == nil || !strings.Contains(err.Error(), "schemas differ") {
		t.Errorf("a move onto another schema: %v", err)
	}
	rdsDB.Exec(`ALTER TABLE users DROP COLUMN nickname`)
	move(t, path, TierDB, false)

	// Before the move back, a row on the box changes behind the mover's back.
	if _, err := boxDB.Exec(`SET application_name = 'llama-move'; UPDATE users SET name = 'tampered' WHERE id = 4099`); err != nil {
		t.Fatal(err)
	}
	_, err := Move(context.Background(), LocalFile(path), LocalFile(path), moveEnv(t), TierDB, MoveOptions{Back: true})
	if err == nil || !strings.Contains(err.Error(), "4099") {
		t.Fatalf("a move back over a difference: %v, want a refusal naming row 4099", err)
	}
	if r := record(t, path, TierDB); r.State != StateSwitched || r.Fenced != "" {
		t.Errorf("after the refused move back the record is %+v, want switched and unfenced", r)
	}
	if code, _ := call(t, "POST", base+"/users", `{"name": "still writing"}`); code != 201 {
		t.Errorf("a write after the refused move back: %d", code)
	}
}

// TestMoveBackResumesAfterKill: a move back killed with SIGKILL while it drains a long reverse
// log runs again and ends where an uninterrupted one would: every row written on the new tier
// since the switch is on the old one, and the app is back there.
func TestMoveBackResumesAfterKill(t *testing.T) {
	box, rds := freshPG(t, "box"), freshPG(t, "rds")
	path := writeLocal(t, dbParams("db/", box))
	boxDB, rdsDB := sqlOn(t, box), sqlOn(t, rds)
	if _, err := Migrate(context.Background(), boxDB); err != nil {
		t.Fatal(err)
	}
	seed(t, boxDB, 1000, 1)
	expand(t, path, dbParams("next/db/", rds))
	move(t, path, TierDB, false)
	// The app of generation 1 writes 100,000 users on RDS; no app runs to keep the box current,
	// so the move back finds them all in the reverse log.
	if _, err := rdsDB.Exec(`SET application_name = 'llama-app db=1 shards=0 activity=0';
		INSERT INTO users (id, name) SELECT 1000000000 + g, 'after the switch' FROM generate_series(1, 100000) g`); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "LLAMA_TEST_MOVER=db", "LLAMA_TEST_BACK=1", "LLAMA_LOCAL="+path, "LLAMA_TEST_BATCH=200")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the move back under way", func() error {
		var n int
		boxDB.QueryRow(`SELECT count(*) FROM users WHERE id > 1000000000`).Scan(&n)
		if n < 2000 {
			return fmt.Errorf("%d rows back", n)
		}
		return nil
	})
	cmd.Process.Kill()
	cmd.Wait()
	var before int
	boxDB.QueryRow(`SELECT count(*) FROM users WHERE id > 1000000000`).Scan(&before)
	if r := record(t, path, TierDB); r.State != StateSwitched || before >= 100000 {
		t.Fatalf("killed mid-way, the record says %+v with %d rows back", r, before)
	}
	res := move(t, path, TierDB, true)
	var after int
	boxDB.QueryRow(`SELECT count(*) FROM users WHERE id > 1000000000`).Scan(&after)
	if after != 100000 || !res.Back {
		t.Errorf("after the second run the box holds %d of the 100,000 rows written since the switch (%+v)", after, res)
	}
	if r := record(t, path, TierDB); r.State != StateBack || r.Gen != 2 {
		t.Errorf("after the second run the record says %+v", r)
	}
	t.Logf("killed with %d of 100,000 rows back; the second run verified %d rows", before, res.Rows)
}
