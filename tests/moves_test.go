package tests

import (
	"slices"
	"strings"
	"testing"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

// The live promotions, seen from the stack: the expand up publishes the new tier under next/
// beside the current one and retires nothing that holds data or takes traffic; llama:moved
// lets the retire up make the new tier current and retire the old one.

func hasInstance(p *offline.Plan, name string) bool {
	for _, r := range p.Resources {
		if r.Name == name {
			return true
		}
	}
	return false
}

func TestExpandPublishesNextBesideCurrent(t *testing.T) {
	for _, c := range []struct {
		stage string
		over  map[string]string
		cur   map[string]string // parameters that must hold these values (prefix match with *)
		next  []string          // next/ keys that must be there
		none  []string          // keys that must not be there
	}{
		{"separate-db", map[string]string{"moved": ""}, map[string]string{"db/primary/endpoint": "127.0.0.1", "db/sslmode": "disable"},
			[]string{"next/db/primary/endpoint", "next/db/secretArn", "next/db/sslmode"}, nil},
		{"separate-db", map[string]string{"moved": "db"}, map[string]string{"db/sslmode": "verify-full"}, nil, []string{"next/db/primary/endpoint"}},
		{"sharded", map[string]string{"moved": "db,traffic"}, nil, []string{"next/shards/count", "next/shards/0/writer", "next/shards/1/writer"}, []string{"shards/count"}},
		{"sharded", map[string]string{"moved": "db,traffic,shards"}, map[string]string{"shards/count": "2"}, nil, []string{"next/shards/count"}},
		{"sharded", map[string]string{"moved": "db,traffic,shards", "shards": "4", "shardsFrom": "2"}, map[string]string{"shards/count": "2"},
			[]string{"next/shards/count", "next/shards/3/writer"}, []string{"shards/2/writer"}},
		{"nosql", map[string]string{"moved": "db,traffic,shards"}, nil, []string{"next/tables/names", "next/tables/activity/name"}, []string{"tables/names"}},
	} {
		p := plan(t, stacks.Servers, c.stage, c.over)
		ps := published(p)
		for k, v := range c.cur {
			if ps[k] != v {
				t.Errorf("%s %v: %s = %q, want %q", c.stage, c.over, k, ps[k], v)
			}
		}
		for _, k := range c.next {
			if ps[k] == "" {
				t.Errorf("%s %v publishes no %s", c.stage, c.over, k)
			}
		}
		for _, k := range c.none {
			if _, ok := ps[k]; ok {
				t.Errorf("%s %v publishes %s", c.stage, c.over, k)
			}
		}
		if c.over["shardsFrom"] == "2" && ps["next/shards/count"] != "4" {
			t.Errorf("the growing map is %q shards, want 4", ps["next/shards/count"])
		}
	}
}

// TestBoxServesUntilItsDataAndTrafficMoved: the load-balanced expand keeps the box, its address
// and its PostgreSQL; the retire up lets the instance and the address go, never the volume.
func TestBoxServesUntilItsDataAndTrafficMoved(t *testing.T) {
	for _, moved := range []string{"", "db"} {
		p := plan(t, stacks.Servers, "load-balanced", map[string]string{"moved": moved})
		if !hasInstance(p, "box-instance") || !hasInstance(p, "box-eip") {
			t.Errorf("load-balanced with llama:moved=%q retires the box before its traffic moved", moved)
		}
		if got := published(p)["db/primary/endpoint"]; (moved == "") != (got == "127.0.0.1") {
			t.Errorf("load-balanced with llama:moved=%q: the app's database is %q", moved, got)
		}
	}
	done := plan(t, stacks.Servers, "load-balanced", map[string]string{"moved": "db,traffic"})
	if hasInstance(done, "box-instance") || hasInstance(done, "box-eip") {
		t.Error("the box stays after its data and traffic moved")
	}
	if v := named(t, done, "aws:ebs/volume:Volume", "box-data"); !v.RetainOnDelete {
		t.Error("the box's data volume is not retained")
	}
	_, err := tryPlan(stacks.Servers, "load-balanced", map[string]string{"moved": "traffic"}, false)
	if err == nil || !strings.Contains(err.Error(), "llama:moved") || !strings.Contains(err.Error(), "db before traffic") {
		t.Errorf("traffic moved before the data: %v", err)
	}
	_, err = tryPlan(stacks.Servers, "cache", map[string]string{"moved": "shards"}, false)
	if err == nil || !strings.Contains(err.Error(), "llama:moved") {
		t.Errorf("a move the stage does not have: %v", err)
	}
	_, err = tryPlan(stacks.Servers, "sharded", map[string]string{"shards": "2", "shardsFrom": "4"}, false)
	if err == nil || !strings.Contains(err.Error(), "llama:shardsFrom") {
		t.Errorf("a shard move that shrinks: %v", err)
	}
}

// TestExpandUpsRetireNothing: every expand up along both ladders (the earlier rung's moves
// done, the new rung's not yet) deletes nothing that holds data or takes traffic, and its
// steps name the move and the retire up in order.
func TestExpandUpsRetireNothing(t *testing.T) {
	for _, pl := range stacks.Platforms {
		rungs := stacks.Rungs(pl)
		for i := 1; i < len(rungs); i++ {
			from, to := rungs[i-1].Stage, rungs[i].Stage
			moved := strings.Join(stacks.MovesOf(pl, from), ",")
			a := plan(t, pl, from, map[string]string{"moved": moved})
			b := plan(t, pl, to, map[string]string{"moved": moved})
			d := preview.Diff(a, b)
			for _, c := range d.Deletes {
				if c.Stateful || c.Name == "box-instance" || c.Name == "box-eip" {
					t.Errorf("%s: %s -> %s deletes %s", pl, from, to, c.Name)
				}
			}
			var whens []string
			for _, s := range d.Steps {
				if strings.HasPrefix(s.ID, "move/") {
					whens = append(whens, s.When)
				}
			}
			news := slices.DeleteFunc(stacks.MovesOf(pl, to), func(m string) bool { return strings.Contains(moved, m) })
			if len(news) > 0 && (len(whens) < 3 || whens[0] != preview.WhenUp || whens[1] != preview.WhenAfterUp || whens[2] != preview.WhenRetireUp) {
				t.Errorf("%s: %s -> %s brings %v; its move steps are placed %v", pl, from, to, news, whens)
			}
		}
	}
}

// TestEdgeKeepsTheOriginReachableUntilClientsMoved: the cdn expand keeps the load balancer open
// to the internet, and on the serverless ladder the execute-api endpoint open and the origin
// header not required, until llama:moved holds edge.
func TestEdgeKeepsTheOriginReachableUntilClientsMoved(t *testing.T) {
	open := plan(t, stacks.Servers, "cdn", map[string]string{"moved": "db,traffic"})
	if hasInstance(open, "fleet-origins") {
		t.Error("the cdn expand up restricts the load balancer to Cloudflare before clients moved")
	}
	done := plan(t, stacks.Servers, "cdn", map[string]string{"moved": "db,traffic,edge"})
	if !hasInstance(done, "fleet-origins") {
		t.Error("with the edge move done the load balancer still admits everyone")
	}
	for _, c := range []struct {
		moved  string
		direct bool
	}{{"", true}, {"edge", false}} {
		p := plan(t, stacks.Serverless, "cdn", map[string]string{"moved": c.moved})
		api := named(t, p, "aws:apigatewayv2/api:Api", "api-http")
		fn := named(t, p, "aws:lambda/function:Function", "api-function")
		if in(api, "disableExecuteApiEndpoint") == c.direct || (in(fn, "environment", "variables", "ORIGIN_VERIFY") == nil) == !c.direct {
			t.Errorf("serverless cdn with llama:moved=%q: execute-api disabled %v, origin header required %v; want direct access %v",
				c.moved, in(api, "disableExecuteApiEndpoint"), in(fn, "environment", "variables", "ORIGIN_VERIFY") != nil, c.direct)
		}
	}
}
