package offline

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// TestLocate: the commands find Pulumi.yaml in a parent directory and read the stack the
// Pulumi CLI selected, as `pulumi` does, before falling back to dev.
func TestLocate(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "Pulumi.yaml"), []byte("name: llama\nruntime: go\n"), 0o644)
	sub := filepath.Join(root, "app", "deep")
	os.MkdirAll(sub, 0o755)
	t.Chdir(sub)
	home := t.TempDir()
	t.Setenv("PULUMI_HOME", home)

	dir, stack, err := Locate("", "")
	if err != nil || dir != root || stack != DefaultStack {
		t.Fatalf("no stack selected: %q %q %v; want %q and %s", dir, stack, err, root, DefaultStack)
	}
	// pulumi stack select acme/prod, as the CLI records it.
	sum := sha1.Sum([]byte(filepath.Join(root, "Pulumi.yaml")))
	os.MkdirAll(filepath.Join(home, "workspaces"), 0o755)
	os.WriteFile(filepath.Join(home, "workspaces", "llama-"+hex.EncodeToString(sum[:])+"-workspace.json"), []byte(`{"stack":"acme/prod"}`), 0o644)
	if _, stack, _ := Locate("", ""); stack != "prod" {
		t.Errorf("selected acme/prod: read %q", stack)
	}
	if _, stack, _ := Locate(root, "staging"); stack != "staging" {
		t.Errorf("--stack staging: read %q", stack)
	}
	t.Chdir(t.TempDir())
	if _, _, err := Locate("", ""); err == nil {
		t.Error("no Pulumi.yaml anywhere above, and no error")
	}
}
