package release

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/storage"
)

// ReleaseArgs configures a release.
type ReleaseArgs struct {
	// Artifact is the build to ship; required.
	Artifact *Artifact
	// Protect protects the bucket (pulumi protect); default false.
	Protect bool
}

// Release is a private, encrypted, versioned bucket holding the app's builds, one object per
// build under releases/<arch>/<sha256>/app: a new build is a new key, and the instances verify
// the digest before they run it.
type Release struct {
	pulumi.ResourceState

	Bucket pulumi.StringOutput `pulumi:"bucket"`
	Key    pulumi.StringOutput `pulumi:"key"`
	SHA256 pulumi.StringOutput `pulumi:"sha256"`

	arn pulumi.StringOutput
}

// NewRelease creates the bucket and uploads the build.
func NewRelease(ctx *pulumi.Context, name string, args *ReleaseArgs, opts ...pulumi.ResourceOption) (*Release, error) {
	if args == nil || args.Artifact == nil {
		return nil, fmt.Errorf("release %s: an Artifact is required", name)
	}
	r := &Release{}
	if err := ctx.RegisterComponentResource("llama:release:Release", name, r, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(r)
	bucket, err := storage.NewBucket(ctx, name+"-bucket", &storage.BucketArgs{Protect: args.Protect}, child)
	if err != nil {
		return nil, err
	}
	a := args.Artifact
	key := fmt.Sprintf("releases/%s/%s/app", a.Arch, a.SHA256)
	obj, err := s3.NewBucketObjectv2(ctx, name+"-app", &s3.BucketObjectv2Args{
		Bucket: bucket.Name, Key: pulumi.String(key), Source: a.Binary, ContentType: pulumi.String("application/octet-stream"),
		Metadata: pulumi.StringMap{"sha256": pulumi.String(a.SHA256), "package": pulumi.String(a.Package)},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("release %s object: %w", name, err)
	}
	r.Bucket, r.Key, r.SHA256, r.arn = bucket.Name, obj.Key, pulumi.String(a.SHA256).ToStringOutput(), bucket.Arn
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{"bucket": r.Bucket, "key": r.Key, "sha256": r.SHA256})
}

// ReadAccess lets an identity download the builds.
func (r *Release) ReadAccess() []access.Statement {
	return []access.Statement{{Sid: "ReadAppReleases", Actions: []string{"s3:GetObject"},
		Resources: pulumi.StringArray{pulumi.Sprintf("%s/releases/*", r.arn)}}}
}
