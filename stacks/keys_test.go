package stacks

import (
	"flag"
	"os"
	"path/filepath"
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
