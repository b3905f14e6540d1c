// Package release builds the app a stack runs and ships it: a Go package of this repository
// compiled for Linux and the target's architecture, kept in a private S3 bucket for the box and
// the fleet, and zipped as bootstrap for Lambda.
package release

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DefaultPackage is the reference app every rung runs unless llama:appPackage names another.
const DefaultPackage = "./cmd/llama-app"

// Artifact is one build of the app.
type Artifact struct {
	Package string         // the Go package built, ./cmd/llama-app
	Arch    string         // GOARCH: amd64 or arm64
	SHA256  string         // hex digest of the executable
	Binary  pulumi.Asset   // the executable
	Lambda  pulumi.Archive // a zip holding the executable as bootstrap
	// Dir is where a real build wrote bootstrap and lambda.zip; empty for a placeholder.
	Dir string
}

// Builder builds a package for an architecture.
type Builder func(pkg, arch string) (*Artifact, error)

var rePackage = regexp.MustCompile(`^\./[A-Za-z0-9_][A-Za-z0-9_./-]*$`)

// ValidPackage reports whether pkg names a package inside the module: ./path, no "..".
func ValidPackage(pkg string) bool {
	return rePackage.MatchString(pkg) && !regexp.MustCompile(`(^|/)\.\.(/|$)`).MatchString(pkg)
}

// GoBuild returns the Builder a deployment uses: `go build` in the module at root (where
// `pulumi up` runs the program), static, reproducible (-trimpath, no build ID), so the digest
// changes only when the code does, and a new digest is a new release.
func GoBuild(root string) Builder {
	return func(pkg, arch string) (*Artifact, error) {
		if !ValidPackage(pkg) {
			return nil, fmt.Errorf("app package %q: want a package path inside the module, such as ./cmd/llama-app", pkg)
		}
		dir, err := os.MkdirTemp("", "llama-release-")
		if err != nil {
			return nil, fmt.Errorf("build dir: %w", err)
		}
		builds.Lock()
		builds.dirs = append(builds.dirs, dir)
		builds.Unlock()
		bin := filepath.Join(dir, "bootstrap")
		// No VCS stamp: a new commit that leaves the app's code alone must not change its
		// digest (and so roll the fleet, redeploy the function and restart the box).
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid=", "-o", bin, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building %s for linux/%s: %w\n%s", pkg, arch, err, out)
		}
		sum, err := digest(bin)
		if err != nil {
			return nil, err
		}
		zipPath := filepath.Join(dir, "lambda.zip")
		if err := zipExecutable(bin, zipPath); err != nil {
			return nil, fmt.Errorf("packaging %s for Lambda: %w", pkg, err)
		}
		return &Artifact{Package: pkg, Arch: arch, SHA256: sum, Binary: pulumi.NewFileAsset(bin), Lambda: pulumi.NewFileArchive(zipPath), Dir: dir}, nil
	}
}

// builds are the directories the builds of this run wrote.
var builds struct {
	sync.Mutex
	dirs []string
}

// RemoveBuilds removes what this run's builds wrote. Call it once the program has run: the
// engine reads the files while it registers the resources that name them.
func RemoveBuilds() {
	builds.Lock()
	defer builds.Unlock()
	for _, d := range builds.dirs {
		os.RemoveAll(d)
	}
	builds.dirs = nil
}

func digest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// zipExecutable writes a zip holding bin as the executable bootstrap, as Lambda's
// provided.al2023 runtime wants it.
func zipExecutable(bin, zipPath string) error {
	in, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	w := zip.NewWriter(out)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	f, err := w.CreateHeader(h)
	if err == nil {
		_, err = io.Copy(f, in)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// Placeholder is the Builder of offline plans: it builds nothing and stands in a digest derived
// from the package and architecture, so plans stay fast and stable.
func Placeholder(pkg, arch string) (*Artifact, error) {
	if !ValidPackage(pkg) {
		return nil, fmt.Errorf("app package %q: want a package path inside the module, such as ./cmd/llama-app", pkg)
	}
	h := sha256.Sum256([]byte(pkg + "@linux/" + arch))
	note := fmt.Sprintf("placeholder: %s built for linux/%s at deployment", pkg, arch)
	return &Artifact{Package: pkg, Arch: arch, SHA256: hex.EncodeToString(h[:]), Binary: pulumi.NewStringAsset(note),
		Lambda: pulumi.NewAssetArchive(map[string]interface{}{"bootstrap": pulumi.NewStringAsset(note)})}, nil
}
