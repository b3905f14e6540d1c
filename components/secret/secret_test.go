package secret

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/offline"
)

type parent struct{ pulumi.ResourceState }

// TestGenerated: the password is generated, secret in state, of the length asked, and its
// secret can be restored for 30 days after a delete.
func TestGenerated(t *testing.T) {
	p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		c := &parent{}
		if err := ctx.RegisterComponentResource("llama:test:Parent", "owner", c); err != nil {
			return nil, err
		}
		g, err := New(ctx, "owner-creds", Args{Description: "test credentials", Length: 32}, c)
		if err != nil {
			return nil, err
		}
		_, err = g.Store(ctx, g.Password)
		return nil, err
	}, offline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pw := p.OfType("random:index/randomPassword:RandomPassword")[0]
	if pw.Input("length") != int64(32) || pw.Outputs["result"] != "[secret]" {
		t.Errorf("password %v / %v", pw.Inputs, pw.Outputs["result"])
	}
	if s := p.OfType("aws:secretsmanager/secret:Secret")[0]; s.Input("recoveryWindowInDays") != int64(30) {
		t.Errorf("recovery window %v", s.Input("recoveryWindowInDays"))
	}
	if v := p.OfType("aws:secretsmanager/secretVersion:SecretVersion")[0]; v.Input("secretString") != "[secret]" {
		t.Errorf("the stored value is not secret: %v", v.Input("secretString"))
	}
	if _, err := New(nil, "x", Args{Description: "short", Length: 8}, &parent{}); err == nil {
		t.Error("an 8-character password was accepted")
	}
}
