package storage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/offline"
)

// TestNonPublicRanges: ranges broader than S3 accepts in an anonymous Allow are split into
// ranges it accepts, covering the same addresses.
func TestNonPublicRanges(t *testing.T) {
	got, err := NonPublicRanges([]string{"2a06:98c0::/29", "2400:cb00::/32", "104.16.0.0/13", "10.0.0.0/7"})
	if err != nil {
		t.Fatal(err)
	}
	want := "2a06:98c0::/32 2a06:98c1::/32 2a06:98c2::/32 2a06:98c3::/32 2a06:98c4::/32 2a06:98c5::/32 2a06:98c6::/32 2a06:98c7::/32 " +
		"2400:cb00::/32 104.16.0.0/13 10.0.0.0/8 11.0.0.0/8"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v\nwant %s", got, want)
	}
	if _, err := NonPublicRanges([]string{"not-a-range"}); err == nil {
		t.Error("a malformed range passed")
	}
}

// TestBucket: the zero args are the safe bucket (private, KMS, versioned, TLS only); a bucket a
// CDN reads anonymously is refused under KMS, which anonymous requests cannot decrypt.
func TestBucket(t *testing.T) {
	p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := NewBucket(ctx, "assets", &BucketArgs{})
		return nil, err
	}, offline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pab := p.OfType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]
	sse := p.OfType("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")[0]
	policy := p.OfType("aws:s3/bucketPolicy:BucketPolicy")[0].Input("policy").(string)
	if pab.Input("blockPublicPolicy") != true || !strings.Contains(policy, `"aws:SecureTransport":"false"`) ||
		!strings.Contains(fmt.Sprint(sse.Inputs["rules"]), "aws:kms") || len(p.OfType("aws:s3/bucketVersioningV2:BucketVersioningV2")) != 1 {
		t.Errorf("the default bucket: %v / %s / %v", pab.Inputs, policy, sse.Inputs)
	}
	_, err = offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := NewBucket(ctx, "static", &BucketArgs{ReadFromCidrs: []string{"104.16.0.0/13"}})
		return nil, err
	}, offline.Options{})
	if err == nil || !strings.Contains(err.Error(), "S3ManagedKeys") {
		t.Errorf("a CDN-read bucket under KMS: %v", err)
	}
}
