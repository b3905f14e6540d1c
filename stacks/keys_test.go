package stacks

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite Pulumi.yaml's config block from the key table")

// TestPulumiYAML: Pulumi.yaml's config block is the key table's, so a key's default or
// description changes in one place (go test ./stacks -run TestPulumiYAML -update rewrites it).
func TestPulumiYAML(t *testing.T) {
	path := filepath.Join("..", "Pulumi.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	have := string(b)
	i := strings.Index(have, "\nconfig:\n")
	if i < 0 {
		t.Fatal("Pulumi.yaml has no config block")
	}
	want := have[:i+1] + ConfigYAML()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if have != want {
		t.Error("Pulumi.yaml's config block is not the key table's (stacks.Keys): go test ./stacks -run TestPulumiYAML -update")
	}
}

// TestKeyRows: every row parses its own default and names the layers that use it.
func TestKeyRows(t *testing.T) {
	layers := map[Layer]bool{}
	for _, r := range Ladder {
		for _, l := range r.Layers {
			layers[l] = true
		}
	}
	for _, k := range Keys {
		if k.Parse == nil || k.Set == nil || k.Description == "" {
			t.Errorf("%s: a row needs a parser, a field and a description", k.Name)
			continue
		}
		if _, allowed := k.Parse(k.Default); allowed != "" && k.Name != "stage" {
			t.Errorf("%s: its default %q is refused: %s", k.Name, k.Default, allowed)
		}
		for _, l := range k.UsedBy {
			if !layers[l] {
				t.Errorf("%s: used by %s, which no rung adds", k.Name, l)
			}
		}
	}
}

// TestInstanceTypes: the current Nitro families and RDS classes parse; Xen types, typos and
// classes the engine does not sell do not.
func TestInstanceTypes(t *testing.T) {
	for _, c := range []struct {
		re   *regexp.Regexp
		good []string
		bad  []string
	}{
		{reInstanceType, []string{"t3.small", "t3a.medium", "t4g.nano", "m7g.large", "c7gn.xlarge", "r6i.2xlarge", "m5.metal", "i4i.large", "a1.medium"},
			[]string{"t2.micro", "m4.large", "c4.xlarge", "r4.large", "i3.large", "x1.16xlarge", "t3.smal", "t33.small", "T3.small"}},
		{reDBClass, []string{"db.t4g.medium", "db.t3.micro", "db.m7g.large", "db.r6gd.xlarge", "db.x2g.large", "db.m5.24xlarge"},
			[]string{"db.t2.micro", "db.m4.large", "db.zz9.large", "t4g.medium", "db.t4g.huge"}},
		{reAuroraClass, []string{"db.r6g.large", "db.t4g.medium", "db.r7i.2xlarge", "db.x2g.large"},
			[]string{"db.t4g.micro", "db.t3.small", "db.m6g.large", "db.serverless"}},
	} {
		for _, v := range c.good {
			if !c.re.MatchString(v) {
				t.Errorf("%s refused", v)
			}
		}
		for _, v := range c.bad {
			if c.re.MatchString(v) {
				t.Errorf("%s accepted", v)
			}
		}
	}
}
