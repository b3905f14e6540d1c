// Package secret holds generated credentials: a password Pulumi generates (a secret in state,
// never plain in code, config or outputs) and the Secrets Manager secret the app reads it from.
package secret

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures a generated secret.
type Args struct {
	Description string // what the secret opens; required
	Length      int    // 20..128; default 40
	Specials    string // special characters allowed; empty: letters and digits only
}

// Generated is a generated password and the secret that keeps it.
type Generated struct {
	Password pulumi.StringOutput // secret
	Arn      pulumi.StringOutput
	secret   *secretsmanager.Secret
	name     string
	parent   pulumi.Resource
}

// New generates the password (<name>-password) and creates its secret (<name>) under parent.
// Deleted secrets can be restored for 30 days.
func New(ctx *pulumi.Context, name string, args Args, parent pulumi.Resource) (*Generated, error) {
	length := args.Length
	if length == 0 {
		length = 40
	}
	if args.Description == "" || length < 20 || length > 128 || parent == nil {
		return nil, fmt.Errorf("secret %s: a description, a parent and a length of 20..128 (got %d)", name, length)
	}
	pwArgs := &random.RandomPasswordArgs{
		Length: pulumi.Int(length), Special: pulumi.Bool(args.Specials != ""),
		MinLower: pulumi.Int(2), MinUpper: pulumi.Int(2), MinNumeric: pulumi.Int(2),
	}
	if args.Specials != "" {
		pwArgs.OverrideSpecial = pulumi.String(args.Specials)
	}
	pw, err := random.NewRandomPassword(ctx, name+"-password", pwArgs, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("%s password: %w", name, err)
	}
	s, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Description: pulumi.String(args.Description), RecoveryWindowInDays: pulumi.Int(30),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("%s secret: %w", name, err)
	}
	return &Generated{Password: pw.Result, Arn: s.Arn, secret: s, name: name, parent: parent}, nil
}

// Store writes the secret's value (<name>-value), kept secret in state.
func (g *Generated) Store(ctx *pulumi.Context, value pulumi.StringInput) (*secretsmanager.SecretVersion, error) {
	v, err := secretsmanager.NewSecretVersion(ctx, g.name+"-value", &secretsmanager.SecretVersionArgs{
		SecretId: g.secret.ID(), SecretString: pulumi.ToSecret(value).(pulumi.StringOutput),
	}, pulumi.Parent(g.parent))
	if err != nil {
		return nil, fmt.Errorf("%s secret value: %w", g.name, err)
	}
	return v, nil
}
