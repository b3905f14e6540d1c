package stacks

import (
	"errors"
	"strings"
	"testing"
)

func get(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := ParseConfig(get(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stage != "single-box" || c.Platform != Servers || !c.Protect || !c.Database.MultiAz || c.Network.AZCount != 2 || !c.Network.NatPerAz ||
		c.Database.Replicas != 2 || c.Shards.Count != 2 || c.Serverless.MinAcu != 0.5 || c.Serverless.MaxAcu != 8 || c.Cache.Engine != "valkey" {
		t.Errorf("defaults: %+v", c)
	}
	if len(c.Tables) != 1 || c.Tables[0] != (Table{"activity", "userId", "createdAt", "expiresAt"}) {
		t.Errorf("default tables %+v", c.Tables)
	}
	if !c.Has(Box) || c.Has(Database) {
		t.Errorf("single-box layers %v", c.Layers)
	}
}

func TestMultiAzFollowsProtect(t *testing.T) {
	for _, tc := range []struct {
		protect, multiAz string
		want             bool
	}{{"true", "", true}, {"false", "", false}, {"false", "true", true}, {"true", "false", false}} {
		c, err := ParseConfig(get(map[string]string{"llama:protect": tc.protect, "llama:dbMultiAz": tc.multiAz}))
		if err != nil || c.Database.MultiAz != tc.want {
			t.Errorf("protect=%s dbMultiAz=%q: got %v, %v", tc.protect, tc.multiAz, c, err)
		}
	}
}

func TestEveryMistakeIsReported(t *testing.T) {
	_, err := ParseConfig(get(map[string]string{"llama:replicas": "16", "llama:shards": "65", "llama:lambdaTimeout": "60"}))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("not a ConfigError: %v", err)
	}
	for _, k := range []string{"llama:replicas", "llama:shards", "llama:lambdaTimeout"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("%s not reported in %v", k, err)
		}
	}
}

func TestLayers(t *testing.T) {
	cases := []struct {
		p       Platform
		stage   string
		has     []Layer
		hasNot  []Layer
		retired []Layer
	}{
		{Servers, "single-box", []Layer{Network, Monitoring, Box}, []Layer{Database, Fleet}, nil},
		{Servers, "load-balanced", []Layer{Database, Fleet}, []Layer{Box, Replicas}, []Layer{Box}},
		{Servers, "nosql", []Layer{Database, Fleet, Replicas, Cache, CDN, Shards, Tables}, []Layer{Box, Functions}, []Layer{Box}},
		{Serverless, "serverless", []Layer{Functions, ServerlessD, SPA}, []Layer{Box, Database, Replicas}, nil},
		{Serverless, "nosql", []Layer{Functions, Replicas, Cache, CDN, Shards, Tables}, []Layer{Fleet}, nil},
	}
	for _, c := range cases {
		ls, err := LayersOf(c.p, c.stage)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range c.has {
			if !ls[l] {
				t.Errorf("%s/%s lacks %s", c.p, c.stage, l)
			}
		}
		for _, l := range c.hasNot {
			if ls[l] {
				t.Errorf("%s/%s has %s", c.p, c.stage, l)
			}
		}
		for _, l := range c.retired {
			if !Retired(c.p, c.stage, l) {
				t.Errorf("%s/%s: %s not retired", c.p, c.stage, l)
			}
		}
	}
	if _, err := LayersOf(Serverless, "single-box"); err == nil {
		t.Error("single-box found on the serverless ladder")
	}
}

// FuzzParseConfig: no input panics the parser, and every mistake it reports names its key.
func FuzzParseConfig(f *testing.F) {
	f.Add("servers", "cache", "2", "3", "0.5", "activity:userId")
	f.Add("serverless", "nosql", "0", "16", "x", "a:b:c:d:e")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, platform, stage, shards, replicas, minAcu, tables string) {
		in := map[string]string{"llama:platform": platform, "llama:stage": stage, "llama:shards": shards,
			"llama:replicas": replicas, "llama:minAcu": minAcu, "llama:tables": tables}
		_, err := ParseConfig(get(in))
		if err == nil {
			return
		}
		for _, line := range strings.Split(strings.TrimPrefix(err.Error(), "invalid configuration: "), "\n") {
			if !strings.HasPrefix(line, "llama:") {
				t.Errorf("a mistake that names no key: %q", line)
			}
		}
	})
}

// TestLadderRows: every rung says what it adds, when to take it and the traffic it is priced
// at; every stage has the network and monitoring; and a rung's stage names a key default that
// parses, so adding a rung is one row.
func TestLadderRows(t *testing.T) {
	for _, r := range Ladder {
		if r.Adds == "" || r.Promote == "" || r.Guide == "" || r.Requests <= 0 || len(r.Layers) == 0 {
			t.Errorf("%s/%s: a rung needs what it adds, when to take it, its guide version, its traffic and its layers", r.Platform, r.Stage)
		}
		ls, err := LayersOf(r.Platform, r.Stage)
		if err != nil || !ls[Network] || !ls[Monitoring] {
			t.Errorf("%s/%s: layers %v (%v)", r.Platform, r.Stage, ls, err)
		}
		if _, err := ParseConfig(get(map[string]string{"llama:platform": string(r.Platform), "llama:stage": r.Stage,
			"llama:cloudflareZoneId": "0123456789abcdef0123456789abcdef", "llama:domain": "example.com"})); err != nil {
			t.Errorf("%s/%s: %v", r.Platform, r.Stage, err)
		}
		if k, _ := KeyNamed("stage"); !strings.Contains(k.Description, r.Stage) {
			t.Errorf("the stage key's description lacks %s", r.Stage)
		}
	}
}
