package cdn

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ranges answers Cloudflare's IP ranges invoke with the given lists.
type ranges struct{ v4, v6 []any }

func (r ranges) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name, args.Inputs, nil
}

func (r ranges) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.NewPropertyMapFromMap(map[string]any{"ipv4CidrBlocks": r.v4, "ipv6CidrBlocks": r.v6, "cidrBlocks": append(r.v4, r.v6...)}), nil
}

func TestIPRanges(t *testing.T) {
	cases := []struct {
		name    string
		r       ranges
		want    int
		errWord string
	}{
		{"both families", ranges{[]any{"173.245.48.0/20"}, []any{"2400:cb00::/32"}}, 2, ""},
		{"no IPv4", ranges{[]any{}, []any{"2400:cb00::/32"}}, 0, "empty"},
		{"nothing", ranges{[]any{}, []any{}}, 0, "empty"},
	}
	for _, c := range cases {
		var got []string
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			var err error
			got, err = IPRanges(ctx)
			return err
		}, pulumi.WithMocks("llama", "dev", c.r))
		if c.errWord != "" {
			if err == nil || !strings.Contains(err.Error(), c.errWord) {
				t.Errorf("%s: err %v, want one saying %q", c.name, err, c.errWord)
			}
			continue
		}
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %v, %v", c.name, got, err)
		}
	}
}
