package compute

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/offline"
)

func boxArgs() *BoxArgs {
	return &BoxArgs{VpcID: pulumi.String("vpc-0a1b2c3d4e5f60718"), SubnetID: pulumi.String("subnet-0a1b2c3d4e5f60718"), AZ: "us-east-1a",
		AppSecurityGroupID: pulumi.String("sg-0a1b2c3d4e5f60718"), AMI: "ami-0c51a4ba9d7e8f0b1", InstanceType: "t3.small",
		InstanceProfile: pulumi.String("llama-dev-app"), ParamPrefix: "/llama/dev", LocalDatabase: true, Account: access.Account{Region: "us-east-1"}, Ops: monitor.Ops{Protect: true}}
}

// TestBox: the box's data lives on an encrypted volume that outlives it (retained and
// protected); a retired box keeps only that volume and the credentials to it.
func TestBox(t *testing.T) {
	for _, retired := range []bool{false, true} {
		a := boxArgs()
		a.Retired = retired
		p, err := offline.Try(func(ctx *pulumi.Context) error { _, err := NewBox(ctx, "box", a); return err })
		if err != nil {
			t.Fatal(err)
		}
		vols := p.OfType("aws:ebs/volume:Volume")
		if len(vols) != 1 || vols[0].Input("encrypted") != true || !vols[0].RetainOnDelete || !vols[0].Protect {
			t.Errorf("retired=%v: data volume %+v", retired, vols)
		}
		if n := len(p.OfType("aws:ec2/instance:Instance")); n != map[bool]int{false: 1, true: 0}[retired] {
			t.Errorf("retired=%v: %d instances", retired, n)
		}
		if len(p.OfType("aws:secretsmanager/secret:Secret")) != 1 {
			t.Errorf("retired=%v: the credentials to the data are gone", retired)
		}
	}
	if _, err := offline.Try(func(ctx *pulumi.Context) error { _, err := NewBox(ctx, "box", &BoxArgs{AZ: "us-east-1a"}); return err }); err == nil {
		t.Error("a box without a network or an AMI was accepted")
	}
}

// TestFleetSizes: the fleet refuses sizes an Auto Scaling group would not keep.
func TestFleetSizes(t *testing.T) {
	a := &FleetArgs{VpcID: pulumi.String("vpc-1"), PublicSubnetIDs: pulumi.ToStringArray([]string{"subnet-1"}), PrivateSubnetIDs: pulumi.ToStringArray([]string{"subnet-2"}),
		AppSecurityGroupID: pulumi.String("sg-1"), AMI: "ami-1", InstanceType: "t3.small", InstanceProfile: pulumi.String("p"), ParamPrefix: "/llama/dev",
		ReleaseBucket: pulumi.String("b"), ReleaseKey: pulumi.String("k"), ReleaseSHA256: "00",
		MinSize: 3, DesiredSize: 2, MaxSize: 6, Account: access.Account{Region: "us-east-1", AccountID: offline.Account}}
	if _, err := offline.Try(func(ctx *pulumi.Context) error { _, err := NewFleet(ctx, "fleet", a); return err }); err == nil {
		t.Error("desired below min was accepted")
	}
}

func TestArch(t *testing.T) {
	for typ, want := range map[string]string{"t3.small": "amd64", "t4g.small": "arm64", "m7g.large": "arm64", "c7gn.xlarge": "arm64", "m5.large": "amd64"} {
		if got := Arch(typ); got != want {
			t.Errorf("%s: %s, want %s", typ, got, want)
		}
	}
}

// TestBootScript: the box's first boot survives a secret that is not readable yet (it retries
// with backoff, cloud-init running the script once), and every log the box writes rotates.
func TestBootScript(t *testing.T) {
	for _, box := range []bool{true, false} {
		a := bootArgs{Box: box, VolumeID: "vol-0123", DBSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db", ParamPrefix: "/llama/dev",
			LogPrefix: "/llama/dev/box", Region: "us-east-1", SlowQueryMs: 500, Release: &releaseRef{"b", "k", "s"}}
		script, err := boot(a)
		if err != nil {
			t.Fatal(err)
		}
		for _, log := range []string{"/var/log/nginx/llama.json", "/var/log/llama/app.log"} {
			if !strings.Contains(script, "/etc/logrotate.d/llama") || !strings.Contains(script, log) || !strings.Contains(script, "maxsize 100M") {
				t.Errorf("box %v: %s does not rotate", box, log)
			}
		}
		if box && (!strings.Contains(script, "for wait in") || !strings.Contains(script, "could not be read")) {
			t.Error("the box reads its database secret once, with no retry")
		}
		if sh, err := exec.LookPath("bash"); err == nil {
			cmd := exec.Command(sh, "-n")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("box %v: the boot script is not valid bash: %v\n%s", box, err, out)
			}
		}
	}
}
