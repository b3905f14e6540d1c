// Package storage holds the stack's S3 bucket: private, encrypted, versioned, TLS-only.
package storage

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
)

// BucketArgs configures a bucket. The zero value is the safe default: private, SSE-KMS with a
// bucket key, versioned, old versions expire after 90 days, TLS-only, owner-enforced.
type BucketArgs struct {
	Protect bool // protect the bucket (pulumi protect)
	// S3ManagedKeys encrypts with SSE-S3 instead of SSE-KMS. Load balancer access logs support
	// only SSE-S3, and objects a CDN reads anonymously must not be under KMS (anonymous
	// requests cannot decrypt): set it at creation for such buckets, since objects keep the
	// encryption they were written with.
	S3ManagedKeys bool
	// NoncurrentDays is how long old object versions live; default 90.
	NoncurrentDays int
	// ExpireDays deletes current objects after this many days (logs); default never.
	ExpireDays int
	// ReadFromCidrs lets anonymous GETs of objects in only from these source ranges (a CDN's
	// published ranges). The bucket stays non-public: its public access block stays on.
	ReadFromCidrs []string
	// LogDelivery lets the region's load balancer log delivery write access logs: as the
	// regional ELB account LogDeliveryARN names (regions older than August 2022), or, when it
	// is empty, as the log-delivery service.
	LogDelivery    bool
	LogDeliveryARN string
	AccountID      string // the stack's account: the only one whose logs are accepted
}

// Bucket is a private S3 bucket.
type Bucket struct {
	pulumi.ResourceState

	Bucket                   *s3.BucketV2
	Name                     pulumi.StringOutput `pulumi:"name"`
	Arn                      pulumi.StringOutput `pulumi:"arn"`
	BucketRegionalDomainName pulumi.StringOutput `pulumi:"bucketRegionalDomainName"`
}

// NewBucket creates the bucket and its configuration.
func NewBucket(ctx *pulumi.Context, name string, args *BucketArgs, opts ...pulumi.ResourceOption) (*Bucket, error) {
	if args == nil {
		args = &BucketArgs{}
	}
	if len(args.ReadFromCidrs) > 0 && !args.S3ManagedKeys {
		return nil, fmt.Errorf("bucket %s: objects read anonymously from a CDN cannot be under SSE-KMS; use S3ManagedKeys", name)
	}
	if args.LogDelivery && args.AccountID == "" {
		return nil, fmt.Errorf("bucket %s: log delivery needs AccountID, the only account whose logs are accepted", name)
	}
	b := &Bucket{}
	if err := ctx.RegisterComponentResource("llama:storage:Bucket", name, b, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(b)
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{ForceDestroy: pulumi.Bool(false)}, child, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	b.Bucket, b.Name, b.Arn, b.BucketRegionalDomainName = bucket, bucket.Bucket, bucket.Arn, bucket.BucketRegionalDomainName

	pab, err := s3.NewBucketPublicAccessBlock(ctx, name+"-public-access", &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("bucket %s public access block: %w", name, err)
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name+"-ownership", &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(), Rule: s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, child); err != nil {
		return nil, fmt.Errorf("bucket %s ownership: %w", name, err)
	}
	sse := s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("aws:kms")}
	if args.S3ManagedKeys {
		sse.SseAlgorithm = pulumi.String("AES256")
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-encryption", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: sse, BucketKeyEnabled: pulumi.Bool(!args.S3ManagedKeys),
		}},
	}, child); err != nil {
		return nil, fmt.Errorf("bucket %s encryption: %w", name, err)
	}
	if err := lifecycle(ctx, name, args, bucket, child); err != nil {
		return nil, err
	}
	policy := bucket.Arn.ApplyT(func(arn string) (string, error) { return policyFor(arn, args) }).(pulumi.StringOutput)
	if _, err := s3.NewBucketPolicy(ctx, name+"-policy", &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy},
		child, pulumi.DependsOn([]pulumi.Resource{pab})); err != nil {
		return nil, fmt.Errorf("bucket %s policy: %w", name, err)
	}
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"name": b.Name, "arn": b.Arn, "bucketRegionalDomainName": b.BucketRegionalDomainName})
}

// lifecycle versions the bucket and expires old versions, abandoned uploads and, where asked,
// current objects.
func lifecycle(ctx *pulumi.Context, name string, args *BucketArgs, bucket *s3.BucketV2, child pulumi.ResourceOption) error {
	versioning, err := s3.NewBucketVersioningV2(ctx, name+"-versioning", &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, child)
	if err != nil {
		return fmt.Errorf("bucket %s versioning: %w", name, err)
	}
	noncurrent := args.NoncurrentDays
	if noncurrent == 0 {
		noncurrent = 90
	}
	rule := s3.BucketLifecycleConfigurationV2RuleArgs{
		Id: pulumi.String("old-versions-and-uploads"), Status: pulumi.String("Enabled"),
		Filter:                         s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		NoncurrentVersionExpiration:    s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(noncurrent)},
		AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(7)},
	}
	if args.ExpireDays > 0 {
		rule.Expiration = s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.ExpireDays)}
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(), Rules: s3.BucketLifecycleConfigurationV2RuleArray{rule},
	}, child, pulumi.DependsOn([]pulumi.Resource{versioning})); err != nil {
		return fmt.Errorf("bucket %s lifecycle: %w", name, err)
	}
	return nil
}

// policyFor renders the bucket policy: TLS only, plus the reads and writes the args allow.
func policyFor(arn string, args *BucketArgs) (string, error) {
	stmts := []any{map[string]any{
		"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  []string{arn, arn + "/*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}}
	if len(args.ReadFromCidrs) > 0 {
		ranges, err := NonPublicRanges(args.ReadFromCidrs)
		if err != nil {
			return "", err
		}
		stmts = append(stmts, map[string]any{
			"Sid": "ReadFromCdnOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
			"Resource":  arn + "/*",
			"Condition": map[string]any{"IpAddress": map[string]any{"aws:SourceIp": ranges}},
		})
	}
	if args.LogDelivery {
		principal := map[string]any{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
		if args.LogDeliveryARN != "" {
			principal = map[string]any{"AWS": args.LogDeliveryARN}
		}
		stmts = append(stmts, map[string]any{
			"Sid": "LoadBalancerAccessLogs", "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
			"Resource": arn + "/AWSLogs/" + args.AccountID + "/*",
		})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	return string(b), err
}

// Read allows listing the bucket and reading its objects, nothing more: what an app that
// serves the bucket's files needs.
func (b *Bucket) Read() []access.Statement {
	return []access.Statement{
		{Sid: "ListBucket", Actions: []string{"s3:ListBucket"}, Resources: pulumi.StringArray{b.Arn}},
		{Sid: "ObjectsRead", Actions: []string{"s3:GetObject"}, Resources: pulumi.StringArray{pulumi.Sprintf("%s/*", b.Arn)}},
	}
}

// Widest source ranges S3 does not count as public in an anonymous Allow: "an aws:SourceIp
// value broader than /8 (IPv4) or /32 (IPv6) makes the policy public", and Block Public Access
// then refuses it (S3 User Guide, "The meaning of public").
const (
	WidestIPv4 = 8
	WidestIPv6 = 32
)

// NonPublicRanges returns the ranges with every one broader than S3 allows split into ranges
// of the widest allowed size, covering the same addresses: Cloudflare's 2a06:98c0::/29 becomes
// eight /32s.
func NonPublicRanges(cidrs []string) ([]string, error) {
	var out []string
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("source range %q: %w", c, err)
		}
		p = p.Masked()
		widest := WidestIPv4
		if p.Addr().Is6() {
			widest = WidestIPv6
		}
		if p.Bits() >= widest {
			out = append(out, p.String())
			continue
		}
		if widest-p.Bits() > 12 {
			return nil, fmt.Errorf("source range %s would split into more than 4096 ranges", c)
		}
		for i := 0; i < 1<<(widest-p.Bits()); i++ {
			out = append(out, netip.PrefixFrom(addOffset(p.Addr(), widest, i), widest).String())
		}
	}
	return out, nil
}

// addOffset returns the n-th subnet of size bits from a: a + n << (address bits - bits).
func addOffset(a netip.Addr, bits, n int) netip.Addr {
	b := a.AsSlice()
	v := new(big.Int).SetBytes(b)
	v.Add(v, new(big.Int).Lsh(big.NewInt(int64(n)), uint(len(b)*8-bits)))
	out := make([]byte, len(b))
	v.FillBytes(out)
	addr, _ := netip.AddrFromSlice(out)
	return addr
}
