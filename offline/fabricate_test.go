package offline

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"unicode"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// TestPasswordsHonourTheirArguments: a RandomPassword's offline result has its length and
// only the characters it allows, with the minimums of each.
func TestPasswordsHonourTheirArguments(t *testing.T) {
	var result pulumi.StringOutput
	_, err := Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		pw, err := random.NewRandomPassword(ctx, "pw", &random.RandomPasswordArgs{
			Length: pulumi.Int(20), Special: pulumi.Bool(true), OverrideSpecial: pulumi.String("#!"),
			MinUpper: pulumi.Int(3), MinNumeric: pulumi.Int(2), MinSpecial: pulumi.Int(1),
		})
		if err != nil {
			return nil, err
		}
		result = pw.Result
		return nil, nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := internals.UnsafeAwaitOutput(context.Background(), result)
	if err != nil {
		t.Fatal(err)
	}
	s := v.Value.(string)
	upper, digits, special := 0, 0, 0
	for _, r := range s {
		switch {
		case unicode.IsUpper(r):
			upper++
		case unicode.IsDigit(r):
			digits++
		case strings.ContainsRune("#!", r):
			special++
		case !unicode.IsLower(r):
			t.Errorf("%q holds %q, which it does not allow", s, r)
		}
	}
	if len(s) != 20 || upper < 3 || digits < 2 || special < 1 {
		t.Errorf("%q: length %d, %d upper, %d digits, %d special", s, len(s), upper, digits, special)
	}
}

func TestShortRegions(t *testing.T) {
	for r, want := range map[string]string{"us-east-1": "use1", "eu-west-1": "euw1", "ap-southeast-1": "apse1", "af-south-1": "afs1", "eu-central-2": "euc2"} {
		if got := short(r); got != want {
			t.Errorf("short(%s) = %s, want %s", r, got, want)
		}
	}
	if !netip.MustParsePrefix("10.0.192.0/22").Contains(netip.MustParseAddr("10.0.192.5")) {
		t.Fatal("prefix arithmetic")
	}
}
