package app

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	dbSecret    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:llama-test-db-AbCdEf"
	cacheSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:llama-test-cache-AbCdEf"
	tableName   = "llama-test-activity"
)

// rungParams are the parameters a rung publishes, pointing at the test engines.
func rungParams(e *engines, replicas, cache, shards, tables bool) map[string]string {
	p := map[string]string{
		"db/primary/endpoint": e.primary.addr(), "db/port": "5432", "db/name": "llama", "db/user": pgUser,
		"db/secretArn": dbSecret,
	}
	if replicas {
		p["db/replicas/0/endpoint"] = e.replica.addr()
	}
	if cache {
		p["cache/primary/endpoint"], p["cache/port"], p["cache/tls"], p["cache/authSecretArn"] = e.redis.addr(), "6379", "false", cacheSecret
	}
	if shards {
		p["shards/count"] = "2"
		p["shards/0/writer"], p["shards/0/secretArn"] = e.shard0.addr(), dbSecret
		p["shards/1/writer"], p["shards/1/secretArn"] = e.shard1.addr(), dbSecret
	}
	if tables {
		p["tables/names"] = tableName
	}
	return p
}

// writeLocal writes a LLAMA_LOCAL file.
func writeLocal(t testing.TB, params map[string]string) string {
	t.Helper()
	doc := map[string]any{"params": params, "secrets": map[string]any{
		dbSecret:    map[string]string{"username": pgUser, "password": pgPassword},
		cacheSecret: cachePass,
	}}
	b, _ := json.Marshal(doc)
	path := filepath.Join(t.TempDir(), "local.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startApp runs the app over HTTP on a rung's parameters, once its schema is applied.
func startApp(t testing.TB, params map[string]string) (*Server, string) {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	return serveApp(t, LocalFile(writeLocal(t, params)), Options{Env: Env{AWS: cfg, Region: "us-east-1"}, Refresh: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// serveApp runs the app over HTTP on a source, once its schema is applied.
func serveApp(t testing.TB, src Source, opts Options) (*Server, string) {
	t.Helper()
	ctx := context.Background()
	srv, err := New(ctx, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "applying the schema", func() error {
		if !srv.MigrateAll(ctx) {
			return fmt.Errorf("not every database has the schema")
		}
		return nil
	})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return srv, hs.URL
}

// call sends a request and decodes the JSON answer.
func call(t testing.TB, method, url, body string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	var doc map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %q", method, url, res.StatusCode, b)
	}
	return res.StatusCode, doc
}

func mustCreateUser(t testing.TB, base, name string) int64 {
	t.Helper()
	code, doc := call(t, "POST", base+"/users", fmt.Sprintf(`{"name": %q}`, name))
	if code != http.StatusCreated {
		t.Fatalf("POST /users: %d %v", code, doc)
	}
	return int64(doc["id"].(float64))
}

func stats(t testing.TB, base string) StatsView {
	t.Helper()
	res, err := http.Get(base + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v StatsView
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// userQueries counts the user lookups the servers logged (log_statement=all).
func userQueries(ps ...*proc) int {
	n := 0
	for _, p := range ps {
		n += strings.Count(p.logText(), "SELECT name FROM users WHERE id")
	}
	return n
}

// waitReplica waits until the replica has replayed everything the primary wrote so far.
func waitReplica(t testing.TB, e *engines) {
	t.Helper()
	primary, replica := sqlOn(t, e.primary), sqlOn(t, e.replica)
	var lsn string
	if err := primary.QueryRow(`SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "replica catching up", func() error {
		var ok bool
		if err := replica.QueryRow(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("replica behind %s", lsn)
		}
		return nil
	})
}

// TestReadThroughCache: a second read of a user is a cache hit, and no database sees a query
// for it.
func TestReadThroughCache(t *testing.T) {
	e := need(t, true, true, false)
	_, base := startApp(t, rungParams(e, true, true, false, false))
	id := mustCreateUser(t, base, "ada")
	waitReplica(t, e)
	before := stats(t, base)
	if code, doc := call(t, "GET", fmt.Sprintf("%s/users/%d", base, id), ""); code != 200 || doc["name"] != "ada" {
		t.Fatalf("first read: %d %v", code, doc)
	}
	queries := userQueries(e.primary, e.replica)
	if code, doc := call(t, "GET", fmt.Sprintf("%s/users/%d", base, id), ""); code != 200 || doc["name"] != "ada" || int64(doc["id"].(float64)) != id {
		t.Fatalf("second read: %d %v", code, doc)
	}
	after := stats(t, base)
	if after.Cache.Hits != before.Cache.Hits+1 || after.Cache.Misses != before.Cache.Misses+1 {
		t.Errorf("cache hits %d -> %d, misses %d -> %d: want one miss, then one hit", before.Cache.Hits, after.Cache.Hits, before.Cache.Misses, after.Cache.Misses)
	}
	if q := userQueries(e.primary, e.replica); q != queries {
		t.Errorf("the databases logged %d more user lookups for a cached read", q-queries)
	}
	if after.Reads["replica-0"] != before.Reads["replica-0"]+1 || after.Reads["primary"] != before.Reads["primary"] {
		t.Errorf("the miss should read the replica once: reads %v -> %v", before.Reads, after.Reads)
	}
}

// TestReplicaReads: lag-tolerant reads reach the replica, consistent=true reads the writer.
func TestReplicaReads(t *testing.T) {
	e := need(t, true, false, false)
	_, base := startApp(t, rungParams(e, true, false, false, false))
	id := mustCreateUser(t, base, "grace")
	if code, doc := call(t, "POST", fmt.Sprintf("%s/users/%d/posts", base, id), `{"body": "hello"}`); code != 201 {
		t.Fatalf("POST posts: %d %v", code, doc)
	}
	// Read-your-writes: straight after the write, from the primary.
	before := stats(t, base)
	code, doc := call(t, "GET", fmt.Sprintf("%s/users/%d/posts?consistent=true", base, id), "")
	if posts := doc["posts"].([]any); code != 200 || len(posts) != 1 || posts[0].(map[string]any)["body"] != "hello" {
		t.Fatalf("consistent read: %d %v", code, doc)
	}
	if got := stats(t, base); got.Reads["primary"] != before.Reads["primary"]+1 || got.Reads["replica-0"] != before.Reads["replica-0"] {
		t.Errorf("a consistent read went elsewhere than the primary: %v -> %v", before.Reads, got.Reads)
	}
	waitReplica(t, e)
	logged := strings.Count(e.replica.logText(), "FROM posts WHERE user_id")
	before = stats(t, base)
	code, doc = call(t, "GET", fmt.Sprintf("%s/users/%d/posts", base, id), "")
	if posts := doc["posts"].([]any); code != 200 || len(posts) != 1 {
		t.Fatalf("lag-tolerant read: %d %v", code, doc)
	}
	if got := stats(t, base); got.Reads["replica-0"] != before.Reads["replica-0"]+1 || got.Reads["primary"] != before.Reads["primary"] {
		t.Errorf("a lag-tolerant read did not go to the replica: %v -> %v", before.Reads, got.Reads)
	}
	if strings.Count(e.replica.logText(), "FROM posts WHERE user_id") != logged+1 {
		t.Error("the replica's log shows no posts query for the lag-tolerant read")
	}
	// Newest first.
	call(t, "POST", fmt.Sprintf("%s/users/%d/posts", base, id), `{"body": "second"}`)
	_, doc = call(t, "GET", fmt.Sprintf("%s/users/%d/posts?consistent=true", base, id), "")
	if posts := doc["posts"].([]any); len(posts) != 2 || posts[0].(map[string]any)["body"] != "second" {
		t.Errorf("posts are not newest first: %v", doc)
	}
}

// TestShardRouting: user N and its posts live on shard N mod 2 and on no other.
func TestShardRouting(t *testing.T) {
	e := need(t, true, false, false)
	_, base := startApp(t, rungParams(e, false, false, true, false))
	shards := []*proc{e.shard0, e.shard1}
	seen := map[int]bool{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		id := mustCreateUser(t, base, fmt.Sprintf("user %d", i))
		if code, _ := call(t, "POST", fmt.Sprintf("%s/users/%d/posts", base, id), `{"body": "on my shard"}`); code != 201 {
			t.Fatalf("POST posts: %d", code)
		}
		home := int(id % 2)
		seen[home] = true
		for s, p := range shards {
			var users, posts int
			db := sqlOn(t, p)
			db.QueryRow(`SELECT count(*) FROM users WHERE id = $1`, id).Scan(&users)
			db.QueryRow(`SELECT count(*) FROM posts WHERE user_id = $1`, id).Scan(&posts)
			want := 0
			if s == home {
				want = 1
			}
			if users != want || posts != want {
				t.Errorf("user %d (shard %d): shard %d holds %d users and %d posts, want %d", id, home, s, users, posts, want)
			}
		}
		var onPrimary int
		sqlOn(t, e.primary).QueryRow(`SELECT count(*) FROM users WHERE id = $1`, id).Scan(&onPrimary)
		if onPrimary != 0 {
			t.Errorf("user %d was written to the primary as well", id)
		}
		if code, doc := call(t, "GET", fmt.Sprintf("%s/users/%d", base, id), ""); code != 200 || doc["name"] != fmt.Sprintf("user %d", i) {
			t.Errorf("reading user %d back: %d %v", id, code, doc)
		}
	}
	if len(seen) < 2 {
		t.Fatalf("40 users all landed on one shard: %v", seen)
	}
	st := stats(t, base)
	if st.Writes["shard-0-writer"] == 0 || st.Writes["shard-1-writer"] == 0 || st.Writes["primary"] != 0 {
		t.Errorf("writes by target: %v", st.Writes)
	}
}

// dynamoClient is a client of the local DynamoDB stand-in, through the SDK's standard
// AWS_ENDPOINT_URL_DYNAMODB.
func dynamoClient(t testing.TB, e *engines) *dynamodb.Client {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://"+e.dynamo.addr())
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	c := dynamodb.NewFromConfig(cfg)
	_, err = c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(tableName), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("userId"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("createdAt"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("userId"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("createdAt"), KeyType: types.KeyTypeRange}},
	})
	var exists *types.ResourceInUseException
	if err != nil && !errors.As(err, &exists) {
		t.Fatal(err)
	}
	return c
}

// TestActivityGoesToDynamoDB: the high-write subset lands in the table when the rung has one,
// and in PostgreSQL before.
func TestActivityGoesToDynamoDB(t *testing.T) {
	e := need(t, true, false, true)
	ddb := dynamoClient(t, e)
	_, base := startApp(t, rungParams(e, false, false, false, true))
	id := mustCreateUser(t, base, "linus")
	for _, kind := range []string{"login", "view"} {
		if code, doc := call(t, "POST", fmt.Sprintf("%s/users/%d/activity", base, id), fmt.Sprintf(`{"kind": %q}`, kind)); code != 202 {
			t.Fatalf("POST activity: %d %v", code, doc)
		}
	}
	out, err := ddb.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(tableName),
		KeyConditionExpression:    aws.String("userId = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": &types.AttributeValueMemberS{Value: strconv.FormatInt(id, 10)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 2 {
		t.Fatalf("the table holds %d items for user %d, want 2", len(out.Items), id)
	}
	if k, ok := out.Items[0]["kind"].(*types.AttributeValueMemberS); !ok || k.Value != "login" {
		t.Errorf("first item's kind: %v", out.Items[0]["kind"])
	}
	if _, ok := out.Items[0]["expiresAt"].(*types.AttributeValueMemberN); !ok {
		t.Error("activity items carry no numeric TTL attribute")
	}
	var inPG int
	sqlOn(t, e.primary).QueryRow(`SELECT count(*) FROM activity WHERE user_id = $1`, id).Scan(&inPG)
	if inPG != 0 {
		t.Errorf("activity was written to PostgreSQL too (%d rows)", inPG)
	}
	if st := stats(t, base); st.Writes["dynamodb"] != 2 {
		t.Errorf("writes by target: %v", st.Writes)
	}
	if code, _ := call(t, "POST", base+"/users/999999/activity", `{"kind": "login"}`); code != 404 {
		t.Errorf("activity of an unknown user: %d, want 404", code)
	}
}

func TestActivityBeforeNoSQLIsPostgres(t *testing.T) {
	e := need(t, true, false, false)
	_, base := startApp(t, rungParams(e, false, false, false, false))
	id := mustCreateUser(t, base, "barbara")
	if code, _ := call(t, "POST", fmt.Sprintf("%s/users/%d/activity", base, id), `{"kind": "login"}`); code != 202 {
		t.Fatalf("POST activity: %d", code)
	}
	var n int
	sqlOn(t, e.primary).QueryRow(`SELECT count(*) FROM activity WHERE user_id = $1`, id).Scan(&n)
	if n != 1 {
		t.Errorf("the primary holds %d activity rows for the user, want 1", n)
	}
}

// TestTiersDownKeepReadsAnswering kills the cache and then the replica mid-test: reads keep
// answering from what is left; both come back afterwards.
func TestTiersDownKeepReadsAnswering(t *testing.T) {
	e := need(t, true, true, false)
	_, base := startApp(t, rungParams(e, true, true, false, false))
	id := mustCreateUser(t, base, "edsger")
	call(t, "POST", fmt.Sprintf("%s/users/%d/posts", base, id), `{"body": "goto considered harmful"}`)
	waitReplica(t, e)
	get := func(what string) {
		t.Helper()
		if code, doc := call(t, "GET", fmt.Sprintf("%s/users/%d", base, id), ""); code != 200 || doc["name"] != "edsger" {
			t.Fatalf("%s: GET user %d %v", what, code, doc)
		}
		code, doc := call(t, "GET", fmt.Sprintf("%s/users/%d/posts", base, id), "")
		if code != 200 || len(doc["posts"].([]any)) != 1 {
			t.Fatalf("%s: GET posts %d %v", what, code, doc)
		}
	}
	get("all tiers up")
	get("cached")
	t.Cleanup(func() {
		// The other tests and the benchmarks use them.
		for _, p := range []*proc{e.redis, e.replica} {
			if err := p.restart(); err != nil {
				t.Errorf("restarting %s: %v", p.name, err)
			}
		}
	})
	e.redis.stop()
	get("cache down")
	e.replica.stop()
	before := stats(t, base)
	get("cache and replica down")
	if after := stats(t, base); after.Reads["primary"] <= before.Reads["primary"] {
		t.Errorf("with the replica down, reads did not fall back to the primary: %v -> %v", before.Reads, after.Reads)
	}
	if code, _ := call(t, "GET", base+"/health", ""); code != 200 {
		t.Errorf("/health with the primary up: %d", code)
	}
	if code, _ := call(t, "POST", base+"/users", `{"name": "still writing"}`); code != 201 {
		t.Errorf("writes with the cache and replica down: %d", code)
	}
}

// TestBadInput: malformed or oversized input gets 400 with a JSON error; an unknown user 404.
func TestBadInput(t *testing.T) {
	e := need(t, true, false, false)
	_, base := startApp(t, rungParams(e, false, false, false, false))
	id := mustCreateUser(t, base, "alan")
	user := fmt.Sprintf("%s/users/%d", base, id)
	cases := []struct {
		name, method, url, body string
		code                    int
	}{
		{"malformed JSON", "POST", base + "/users", `{"name": `, 400},
		{"not an object", "POST", base + "/users", `["alan"]`, 400},
		{"wrong type", "POST", base + "/users", `{"name": 42}`, 400},
		{"missing field", "POST", base + "/users", `{}`, 400},
		{"empty name", "POST", base + "/users", `{"name": "   "}`, 400},
		{"oversized name", "POST", base + "/users", `{"name": "` + strings.Repeat("x", maxName+1) + `"}`, 400},
		{"oversized body", "POST", base + "/users", `{"name": "` + strings.Repeat("x", maxBody) + `"}`, 413},
		{"NUL in a name", "POST", base + "/users", `{"name": "al\u0000an"}`, 400},
		{"NUL in a post", "POST", user + "/posts", `{"body": "hi\u0000"}`, 400},
		{"a signed id", "GET", base + "/users/+5", "", 400},
		{"empty post", "POST", user + "/posts", `{"body": ""}`, 400},
		{"oversized post", "POST", user + "/posts", `{"body": "` + strings.Repeat("y", maxPostBody+1) + `"}`, 400},
		{"post body wrong type", "POST", user + "/posts", `{"body": true}`, 400},
		{"activity kind wrong type", "POST", user + "/activity", `{"kind": ["a"]}`, 400},
		{"non-numeric id", "GET", base + "/users/abc", "", 400},
		{"negative id", "GET", base + "/users/-4", "", 400},
		{"id beyond 64 bits", "GET", base + "/users/99999999999999999999", "", 400},
		{"bad consistent flag", "GET", user + "/posts?consistent=maybe", "", 400},
		{"unknown user", "GET", base + "/users/12345", "", 404},
		{"posts of an unknown user", "GET", base + "/users/12345/posts", "", 404},
		{"post for an unknown user", "POST", base + "/users/12345/posts", `{"body": "hi"}`, 404},
		{"unknown route", "GET", base + "/nope", "", 404},
		{"wrong method", "DELETE", user, "", 405},
	}
	for _, c := range cases {
		code, doc := call(t, c.method, c.url, c.body)
		if code != c.code {
			t.Errorf("%s: %d %v, want %d", c.name, code, doc, c.code)
		}
		if _, ok := doc["error"].(string); !ok {
			t.Errorf("%s: no JSON error in %v", c.name, doc)
		}
	}
	if res, err := http.Head(base + "/health"); err != nil || res.StatusCode != 200 {
		t.Errorf("HEAD /health: %v %v", res, err)
	}
}

// TestPromotionWithoutRedeploy: a running app picks up the parameters a promotion publishes.
func TestPromotionWithoutRedeploy(t *testing.T) {
	e := need(t, true, true, false)
	path := writeLocal(t, rungParams(e, false, false, false, false))
	cfg, _ := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	srv, err := New(context.Background(), LocalFile(path), Options{Env: Env{AWS: cfg}, Refresh: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	eventually(t, 20*time.Second, "schema", func() error {
		if !srv.MigrateAll(context.Background()) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	id := mustCreateUser(t, hs.URL, "margaret")
	call(t, "GET", fmt.Sprintf("%s/users/%d", hs.URL, id), "")
	if st := stats(t, hs.URL); st.Cache.Misses != 0 {
		t.Fatalf("a cache was used before the cache rung: %+v", st.Cache)
	}
	// The stack publishes the cache's parameters; the app reads them on its next refresh.
	b, _ := json.Marshal(map[string]any{"params": rungParams(e, false, true, false, false), "secrets": map[string]any{
		dbSecret: map[string]string{"username": pgUser, "password": pgPassword}, cacheSecret: cachePass}})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	call(t, "GET", fmt.Sprintf("%s/users/%d", hs.URL, id), "")
	call(t, "GET", fmt.Sprintf("%s/users/%d", hs.URL, id), "")
	if st := stats(t, hs.URL); st.Cache.Misses != 1 || st.Cache.Hits != 1 {
		t.Errorf("after the promotion: %+v, want one miss and one hit", st.Cache)
	}
}

// TestMigrationsConcurrent: many instances starting at once apply each migration once.
func TestMigrationsConcurrent(t *testing.T) {
	e := need(t, true, false, false)
	admin := sqlOn(t, e.shard1)
	if _, err := admin.Exec(`CREATE DATABASE migrate_race`); err != nil {
		t.Fatal(err)
	}
	db := sqlOnDB(t, e.shard1, "migrate_race")
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() { _, err := Migrate(context.Background(), db); errs <- err }()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent migration: %v", err)
		}
	}
	ms, _ := migrations()
	var n int
	db.QueryRow(`SELECT count(*) FROM llama_schema`).Scan(&n)
	if n != len(ms) {
		t.Errorf("llama_schema holds %d rows, want %d", n, len(ms))
	}
	if v, err := Migrate(context.Background(), db); err != nil || v != ms[len(ms)-1].version {
		t.Errorf("a second run: version %d, %v", v, err)
	}
}

func sqlOnDB(t testing.TB, p *proc, name string) *sql.DB {
	t.Helper()
	db := testDB(p.port, name)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPasswordsReachPostgresExactly: a password holding what an IAM token holds (& = % / +) and
// what a connection string would have to escape (' \ and spaces) signs in: the fields reach PostgreSQL as given.
func TestPasswordsReachPostgresExactly(t *testing.T) {
	e := need(t, true, false, false)
	token := `db.proxy:5432/?Action=connect&DBUser=llama&X-Amz-Credential=AKID%2F20261202%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Signature=ab+cd`
	for i, pw := range []string{token, `it's a \ back slash`, "spaces  and\ttabs"} {
		role := fmt.Sprintf("exact_%d", i)
		admin := sqlOn(t, e.primary)
		if _, err := admin.Exec(fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, role, strings.ReplaceAll(pw, "'", "''"))); err != nil {
			t.Fatal(err)
		}
		c := connector{pgTarget{Name: "primary", Endpoint: Endpoint{"127.0.0.1", e.primary.port}, Database: "llama", User: role, Password: pw, SSLMode: "disable"}}
		conn, err := c.Connect(context.Background())
		if err != nil {
			t.Errorf("password %q: %v", pw, err)
			continue
		}
		conn.Close()
	}
}

// TestHealth: 200 while the primary answers, 503 when it cannot be reached; the load
// balancer's shallow check answers 200 either way.
func TestHealth(t *testing.T) {
	e := need(t, true, false, false)
	_, base := startApp(t, rungParams(e, false, false, false, false))
	if code, _ := call(t, "GET", base+"/health", ""); code != 200 {
		t.Errorf("/health: %d", code)
	}
	dead := rungParams(e, false, false, false, false)
	dead["db/primary/endpoint"] = "127.0.0.1:1"
	srv, err := New(context.Background(), LocalFile(writeLocal(t, dead)), Options{Refresh: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	if rec.Code != 503 || !bytes.Contains(rec.Body.Bytes(), []byte("error")) {
		t.Errorf("/health with the primary down: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/health/live", nil))
	if rec.Code != 200 {
		t.Errorf("/health/live with the primary down: %d: the group would replace every instance", rec.Code)
	}
}

// TestHealthCoversWhatTheRungUses: on the sharded rung a shard that is down makes /health 503
// naming it, and the primary, where no user lives, does not.
func TestHealthCoversWhatTheRungUses(t *testing.T) {
	e := need(t, true, false, false)
	_, base := startApp(t, rungParams(e, false, false, true, false))
	e.shard0.stop()
	defer e.shard0.restart()
	code, doc := call(t, "GET", base+"/health", "")
	if code != 503 || !strings.Contains(fmt.Sprint(doc["error"]), "shard-0-writer") {
		t.Errorf("shard 0 down: %d %v, want 503 naming shard-0-writer", code, doc)
	}
	if err := e.shard0.restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "shard 0 back", func() error {
		if code, doc := call(t, "GET", base+"/health", ""); code != 200 {
			return fmt.Errorf("%d %v", code, doc)
		}
		return nil
	})
}

// TestHungReplicaCostsOneBoundedRead: with the replica stopped (SIGSTOP, as a hung host), a
// lag-tolerant read falls back to the primary after ReplicaBound, and the next ones skip the
// replica altogether until its breaker closes.
func TestHungReplicaCostsOneBoundedRead(t *testing.T) {
	e := need(t, true, false, false)
	_, base := startApp(t, rungParams(e, true, false, false, false))
	id := mustCreateUser(t, base, "grace")
	waitReplica(t, e)
	if code, _ := call(t, "GET", fmt.Sprintf("%s/users/%d/posts", base, id), ""); code != 200 {
		t.Fatalf("posts before: %d", code)
	}
	hang(t, e.replica, syscall.SIGSTOP)
	defer hang(t, e.replica, syscall.SIGCONT)
	var worst time.Duration
	for i := 0; i < 20; i++ {
		start := time.Now()
		code, doc := call(t, "GET", fmt.Sprintf("%s/users/%d/posts", base, id), "")
		took := time.Since(start)
		if code != 200 {
			t.Fatalf("read %d with the replica hung: %d %v", i, code, doc)
		}
		if i == 0 && took > ReplicaBound+time.Second {
			t.Errorf("the first read with the replica hung took %v", took)
		}
		if i > 0 {
			worst = max(worst, took)
		}
	}
	if worst >= ReplicaBound-50*time.Millisecond { // each would wait the bound without the breaker
		t.Errorf("reads after the first still wait for the hung replica: the slowest took %v", worst)
	}
}

// hang sends sig to a server and every process it started (PostgreSQL serves each connection
// from a child): SIGSTOP hangs it as a frozen host would, SIGCONT resumes it.
func hang(t testing.TB, p *proc, sig syscall.Signal) {
	t.Helper()
	pids := []int{p.cmd.Process.Pid}
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(p.cmd.Process.Pid)).Output()
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
}

// TestIDsDoNotCollideUnderLoad: many activities of one user at once, as fast as the machine
// takes them: every one is answered 202 (an id the user already has is drawn again).
func TestIDsDoNotCollideUnderLoad(t *testing.T) {
	e := need(t, true, false, false)
	_, base := startApp(t, rungParams(e, false, false, false, false))
	id := mustCreateUser(t, base, "ada")
	url := fmt.Sprintf("%s/users/%d/activity", base, id)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				res, err := client.Post(url, "application/json", strings.NewReader(`{"kind": "view"}`))
				code := 0
				if err == nil {
					code = res.StatusCode
					res.Body.Close()
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if codes[202] != 3200 {
		t.Errorf("3,200 activities of one user: answers %v, want every one 202", codes)
	}
}

// TestShardMapChangedWithoutAMoveIsRefused: a shard count published as current without a move
// is not followed (users would land on shards that do not hold them), and health says so.
func TestShardMapChangedWithoutAMoveIsRefused(t *testing.T) {
	e := need(t, true, false, false)
	params := rungParams(e, false, false, true, false)
	path := writeLocal(t, params)
	srv, err := New(context.Background(), LocalFile(path), Options{Env: moveEnv(t), Refresh: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.MigrateAll(context.Background())
	params["shards/count"] = "1"
	rewrite(t, path, params)
	if err := srv.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "without a move") {
		t.Fatalf("a shard map shrunk without a move: %v", err)
	}
	if n := len(srv.tiers.Load().shards); n != 2 {
		t.Errorf("the app serves from %d shards, want the 2 it had", n)
	}
	if p := srv.healthy(context.Background()); len(p) == 0 || !strings.Contains(strings.Join(p, " "), "without a move") {
		t.Errorf("health: %v", p)
	}
}
