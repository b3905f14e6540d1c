package functions

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Source is the API's Go package, relative to the module root.
const Source = "./lambda/api"

// OriginHeader is the request header the API checks when it sits behind a CDN; it matches
// the handler's in lambda/api.
const OriginHeader = "x-llama-origin-verify"

// Build compiles the API for Lambda (linux/arm64, static) with the Go toolchain and returns its
// deployment package: a zip holding one executable, bootstrap. It runs from the module root,
// where `pulumi up` runs the program.
func Build() (pulumi.Archive, error) {
	zipPath, err := BuildZip(".", filepath.Join(os.TempDir(), "llama-lambda"))
	if err != nil {
		return nil, err
	}
	return pulumi.NewFileArchive(zipPath), nil
}

// BuildZip builds Source under root into dir/bootstrap and zips it as dir/api.zip.
func BuildZip(root, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("lambda build dir: %w", err)
	}
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", bin, Source)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s for Lambda: %w\n%s", Source, err, out)
	}
	zipPath := filepath.Join(dir, "api.zip")
	if err := zipExecutable(bin, zipPath); err != nil {
		return "", fmt.Errorf("packaging the Lambda function: %w", err)
	}
	return zipPath, nil
}

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
