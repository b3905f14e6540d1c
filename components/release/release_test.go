package release

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/offline"
)

// TestRelease: a build is kept by architecture and digest, so a new build is a new key and an
// old one stays for a rollback; the bucket is the private, versioned kind.
func TestRelease(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		art, err := Placeholder("./cmd/llama-app", arch)
		if err != nil {
			t.Fatal(err)
		}
		p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
			_, err := NewRelease(ctx, "release", &ReleaseArgs{Artifact: art})
			return nil, err
		}, offline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		obj := p.OfType("aws:s3/bucketObjectv2:BucketObjectv2")[0]
		if key := obj.Input("key").(string); key != "releases/"+arch+"/"+art.SHA256+"/app" {
			t.Errorf("%s: key %s", arch, key)
		}
		if len(p.OfType("aws:s3/bucketVersioningV2:BucketVersioningV2")) != 1 || len(p.OfType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")) != 1 {
			t.Errorf("%s: the release bucket is not versioned and private", arch)
		}
	}
	if _, err := Placeholder("../elsewhere", "amd64"); err == nil || !strings.Contains(err.Error(), "inside the module") {
		t.Errorf("a package outside the module: %v", err)
	}
}
