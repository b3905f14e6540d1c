package offline

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// DefaultStack is the stack the commands read when none is named and the Pulumi CLI has none
// selected for the project.
const DefaultStack = "dev"

// Locate finds what the commands read, as the pulumi CLI does: the project is the directory
// holding Pulumi.yaml, dir or the nearest parent of the working directory when dir is empty;
// the stack is the one named, else the stack `pulumi stack select` selected for this project,
// else DefaultStack.
func Locate(dir, stack string) (projectDir, stackName string, err error) {
	if dir == "" {
		if dir, err = findProject(); err != nil {
			return "", "", err
		}
	}
	if stack != "" {
		return dir, stack, nil
	}
	if s := selectedStack(dir); s != "" {
		return dir, s, nil
	}
	return dir, DefaultStack, nil
}

// findProject walks up from the working directory to the first Pulumi.yaml.
func findProject() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding Pulumi.yaml: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "Pulumi.yaml")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no Pulumi.yaml in %s or a parent directory: run llama in the project, or name it with --project-dir", wd)
		}
	}
}

// selectedStack is the stack the Pulumi CLI has selected for the project in dir: it keeps it
// in <PULUMI_HOME or ~/.pulumi>/workspaces/<project>-<sha1 of Pulumi.yaml's path>-workspace.json
// (pulumi/pulumi, pkg/workspace: projectWorkspace.settingsPath), as {"stack": "[org/]name"}.
// Empty when there is none.
func selectedStack(dir string) string {
	path, err := filepath.Abs(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return ""
	}
	proj, err := workspace.LoadProject(path)
	if err != nil {
		return ""
	}
	home := os.Getenv("PULUMI_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		home = filepath.Join(h, ".pulumi")
	}
	sum := sha1.Sum([]byte(path))
	raw, err := os.ReadFile(filepath.Join(home, "workspaces", string(proj.Name)+"-"+hex.EncodeToString(sum[:])+"-workspace.json"))
	if err != nil {
		return ""
	}
	var settings struct {
		Stack string `json:"stack"`
	}
	if json.Unmarshal(raw, &settings) != nil {
		return ""
	}
	// An organization-qualified name (acme/prod) keeps its stack file under its last part.
	return settings.Stack[strings.LastIndex(settings.Stack, "/")+1:]
}
