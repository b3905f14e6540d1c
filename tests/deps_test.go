package tests

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDependencyListMatchesGoMod: docs/dependencies.md names every direct
// requirement of go.mod, and nothing else.
func TestDependencyListMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var direct []string
	inBlock := false
	for _, line := range strings.Split(string(mod), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "require (":
			inBlock = true
		case line == ")":
			inBlock = false
		case inBlock && line != "" && !strings.Contains(line, "// indirect"):
			direct = append(direct, strings.Fields(line)[0])
		case strings.HasPrefix(line, "require ") && !strings.Contains(line, "// indirect"):
			direct = append(direct, strings.Fields(line)[1])
		}
	}
	path, page := docHolding(t, "<!-- deps:begin -->")
	_, block, _ := strings.Cut(page, "<!-- deps:begin -->")
	block, _, ok := strings.Cut(block, "<!-- deps:end -->")
	if !ok {
		t.Fatalf("%s's deps block has no end", path)
	}
	var listed []string
	for _, line := range strings.Split(block, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		var base string
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(first, -1) {
			name := m[1]
			if rest, ok := strings.CutPrefix(name, "..."); ok {
				name = base + rest
			} else if strings.HasPrefix(name, "github.com/aws/aws-sdk-go-v2") {
				base = "github.com/aws/aws-sdk-go-v2"
			}
			listed = append(listed, name)
		}
	}
	slices.Sort(direct)
	slices.Sort(listed)
	if !slices.Equal(direct, listed) {
		t.Errorf("%s's dependencies %v, go.mod's direct requirements %v", path, listed, direct)
	}
}
