package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// fakeSSM answers GetParameter and GetParametersByPath, ten parameters a page, as SSM's JSON
// API does, and counts the calls.
type fakeSSM struct {
	mu     sync.Mutex
	params map[string]string
	calls  map[string]int
}

func (f *fakeSSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name, Path, NextToken string
	}
	json.NewDecoder(r.Body).Decode(&in)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "GetParameter":
		v, ok := f.params[in.Name]
		if !ok {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"__type":"ParameterNotFound","message":"not found"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]string{"Name": in.Name, "Value": v}})
	case "GetParametersByPath":
		var names []string
		for n := range f.params {
			if strings.HasPrefix(n, in.Path) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		start, _ := strconv.Atoi(in.NextToken)
		end := min(start+10, len(names))
		var page []map[string]string
		for _, n := range names[start:end] {
			page = append(page, map[string]string{"Name": n, "Value": f.params[n]})
		}
		out := map[string]any{"Parameters": page}
		if end < len(names) {
			out["NextToken"] = strconv.Itoa(end)
		}
		json.NewEncoder(w).Encode(out)
	default:
		w.WriteHeader(400)
	}
}

func (f *fakeSSM) set(k, v string) { f.mu.Lock(); f.params["/llama/dev/"+k] = v; f.mu.Unlock() }
func (f *fakeSSM) take() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = map[string]int{}
	return c
}

// TestParamsFollowTheRevision: the app reads every page of the parameters once per revision of
// the stack's; between revisions a refresh is the revision and the mover's records, two calls,
// and still sees a record the mover wrote. A stack without a revision is read whole each time.
func TestParamsFollowTheRevision(t *testing.T) {
	f := &fakeSSM{params: map[string]string{}, calls: map[string]int{}}
	for i := 0; i < 64; i++ {
		f.set(fmt.Sprintf("shards/%d/writer", i), fmt.Sprintf("shard-%d.example", i))
	}
	f.set("db/primary/endpoint", "db.example")
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
	}), BaseEndpoint: aws.String(srv.URL)}
	a := NewAWS(cfg, "/llama/dev")
	ctx := context.Background()

	read := func() map[string]string {
		t.Helper()
		p, err := a.Params(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	read()
	read()
	if c := f.take(); c["GetParametersByPath"] != 2*7 {
		t.Errorf("without a revision: %v calls, want every page each time", c)
	}
	f.set(revisionKey, "r1")
	if p := read(); p["shards/63/writer"] != "shard-63.example" {
		t.Fatalf("the first read misses a parameter: %v", p)
	}
	f.take()
	f.set("moves/shards", `{"state":"switched"}`)
	p := read()
	if c := f.take(); c["GetParameter"] != 1 || c["GetParametersByPath"] != 1 {
		t.Errorf("a refresh at the same revision made %v calls, want the revision and the records", c)
	}
	if p["moves/shards"] != `{"state":"switched"}` || p["shards/0/writer"] != "shard-0.example" || p[revisionKey] != "r1" {
		t.Errorf("a refresh at the same revision lost something: %v", p)
	}
	f.set("db/primary/endpoint", "db2.example")
	f.set(revisionKey, "r2")
	if p := read(); p["db/primary/endpoint"] != "db2.example" {
		t.Errorf("a new revision is not read: %v", p["db/primary/endpoint"])
	}
}
