// Package snapshot names the final snapshots databases and caches take when they are deleted.
package snapshot

import (
	"fmt"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FinalName returns a final snapshot name unique to one life of a resource: its identifier,
// "-final-" and eight random hex digits, drawn once when the resource is created (name is the
// Pulumi name of the random suffix, parented to parent). A fixed name (<id>-final) makes the
// second delete of a resource of the same identifier fail, the snapshot of the first being
// there already (a shard removed, added again and removed; a stack recreated).
func FinalName(ctx *pulumi.Context, name, identifier string, parent pulumi.Resource) (pulumi.StringOutput, error) {
	suffix, err := random.NewRandomId(ctx, name, &random.RandomIdArgs{
		ByteLength: pulumi.Int(4), Keepers: pulumi.StringMap{"identifier": pulumi.String(identifier)},
	}, pulumi.Parent(parent))
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("final snapshot name: %w", err)
	}
	return pulumi.Sprintf("%s-final-%s", identifier, suffix.Hex), nil
}
