package offline

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"go.yaml.in/yaml/v3"

	"github.com/llama-stages/llama/suggest"
)

// StackConfig returns the config a stack's program sees, as the Pulumi engine builds it: the
// defaults declared in Pulumi.yaml, then Pulumi.<stack>.yaml (none when stack is empty: a new
// stack with the defaults), then the overrides (key=value, keys namespaced or bare, bare
// meaning llama:). Secure values read as "[secret]". It also returns the keys the stack file
// and the overrides set, as opposed to those that took Pulumi.yaml's defaults.
func StackConfig(dir, stack string, overrides map[string]string) (map[string]string, []string, error) {
	proj, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, nil, fmt.Errorf("loading Pulumi.yaml: %w", err)
	}
	out := map[string]string{}
	for k, t := range proj.Config {
		key := k
		if !strings.Contains(k, ":") {
			key = Project + ":" + k
		}
		if t.Default != nil {
			out[key] = fmt.Sprint(t.Default)
		}
	}
	if err := twice(overrides, "the overrides"); err != nil {
		return nil, nil, err
	}
	file := map[string]string{} // a new stack: Pulumi.yaml's defaults alone
	if stack != "" {
		if file, err = stackFile(dir, stack, proj); err != nil {
			return nil, nil, err
		}
	}
	set := map[string]bool{}
	for _, layer := range []map[string]string{file, overrides} {
		for k, v := range layer {
			out[QualifyKey(k)] = v
			set[QualifyKey(k)] = true
		}
	}
	return out, keysOf(set), nil
}

// stackFile reads Pulumi.<stack>.yaml's config as Pulumi does, secure values blinded.
func stackFile(dir, stack string, proj *workspace.Project) (map[string]string, error) {
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		var known []string
		files, _ := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
		for _, f := range files {
			known = append(known, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
		}
		return nil, fmt.Errorf("stack %q has no %s%s; the stacks here are %s", stack, filepath.Base(path), suggest.DidYouMean(stack, known), strings.Join(known, ", "))
	}
	if err := spelledTwice(path); err != nil {
		return nil, err
	}
	ps, err := workspace.LoadProjectStack(diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: "never"}), proj, path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", filepath.Base(path), err)
	}
	file := map[string]string{}
	for k, v := range ps.Config {
		s, err := v.Value(config.NewBlindingDecrypter())
		if err != nil {
			return nil, fmt.Errorf("%s in %s: %w", k, filepath.Base(path), err)
		}
		file[k.String()] = s
	}
	if err := twice(file, filepath.Base(path)); err != nil {
		return nil, err
	}
	return file, nil
}

// spelledTwice: Pulumi reads replicas and llama:replicas as one key, and which value it keeps
// depends on a map's order: refuse a key spelled twice in the file before Pulumi reads it.
func spelledTwice(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil // Pulumi's own read reports it
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if yaml.Unmarshal(raw, &doc) != nil {
		return nil
	}
	flat := map[string]string{}
	for k, v := range doc.Config {
		flat[k] = fmt.Sprint(v)
	}
	return twice(flat, filepath.Base(path))
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// twice refuses a key given in two spellings (replicas and llama:replicas): which one won would
// depend on a map's order, and so would the plan.
func twice(kv map[string]string, where string) error {
	seen := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		q := QualifyKey(k)
		if other, ok := seen[q]; ok {
			return fmt.Errorf("%s gives %s twice (%s=%s and %s=%s): give it once", where, q, other, kv[other], k, kv[k])
		}
		seen[q] = k
	}
	return nil
}

// QualifyKey puts a bare config key into the llama namespace.
func QualifyKey(k string) string {
	if strings.Contains(k, ":") {
		return k
	}
	return Project + ":" + k
}
