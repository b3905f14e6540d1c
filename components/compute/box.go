package compute

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/components/network"
	"github.com/llama-stages/llama/components/secret"
)

// BoxArgs configures the single box of Llama 1.0.
type BoxArgs struct {
	VpcID              pulumi.StringInput // required unless Retired
	SubnetID           pulumi.StringInput // required unless Retired: a public subnet
	AZ                 string             // required: the subnet's AZ, where the data volume lives
	AppSecurityGroupID pulumi.StringInput // required unless Retired: the app's group
	AMI                string             // required unless Retired
	InstanceType       string             // required unless Retired
	InstanceProfile    pulumi.StringInput // required unless Retired: the app's role
	ParamPrefix        string             // required unless Retired: /llama/<stack>
	// Account: Region is required unless Retired, for the instance's AWS CLI calls.
	access.Account
	// Ops: Protect protects the data volume; the log retention; the monitor that receives alarms and widgets.
	monitor.Ops
	SlowQueryMs int // statements slower than this are logged; default 500
	// LocalDatabase says the app uses the box's own PostgreSQL (Llama 1.0); default false.
	// Without it the database is watched no more, and the box stops its PostgreSQL as soon as
	// the published db/primary/endpoint names another (the data stays on the volume).
	LocalDatabase bool
	// Retired keeps only the data volume: the instance, its address and its rules go, the
	// data stays (retained on delete and protected) until it is moved and the volume deleted
	// by hand.
	Retired bool
	// RoleName is the app role's name (InstanceProfile's role): the box grants it read of its
	// database's credentials itself, so that the instance boots only once the grant and the
	// secret's value exist. Nil: the caller grants it.
	RoleName pulumi.StringInput
	// HTTPS opens port 443: the box obtains a certificate for the hostname the stack
	// publishes under tls/ from an ACME CA itself (llama-app tls, on a timer) and serves
	// HTTPS once it has one. Default false: port 443 stays closed, nothing listens there.
	HTTPS bool
	// BeforeDelete runs before the instance or its address is deleted (the box retiring):
	// the stack waits there for resolvers to stop sending clients to it. Default none.
	BeforeDelete []*pulumi.ResourceHook
	Alarms       monitor.AppAlarms // thresholds; zero fields take their defaults
}

// Box is one public EC2 instance running the app, PostgreSQL and the static files, with an
// Elastic IP and PostgreSQL's data on its own encrypted, retained volume.
type Box struct {
	pulumi.ResourceState

	InstanceID   pulumi.StringOutput `pulumi:"instanceId"`
	PublicIP     pulumi.StringOutput `pulumi:"publicIp"`
	PublicDNS    pulumi.StringOutput `pulumi:"publicDns"`
	DataVolumeID pulumi.StringOutput `pulumi:"dataVolumeId"`
	// DBSecretArn is the secret holding the credentials of the box's PostgreSQL: the app signs
	// in with them, as it does with every later rung's database.
	DBSecretArn pulumi.StringOutput `pulumi:"dbSecretArn"`
}

// Local database settings of the box, published like a managed database's.
const (
	LocalDBHost = "127.0.0.1"
	LocalDBPort = 5432
	LocalDBName = "llama"
	LocalDBUser = "llama"
)

func (a *BoxArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("compute: NewBox needs BoxArgs")
	case a.AZ == "":
		return fmt.Errorf("compute: BoxArgs needs AZ, where the data volume lives")
	case a.Retired:
		return nil // only the volume and its credentials stay
	case a.VpcID == nil || a.SubnetID == nil || a.AppSecurityGroupID == nil || a.InstanceProfile == nil:
		return fmt.Errorf("compute: BoxArgs needs VpcID, SubnetID, AppSecurityGroupID and InstanceProfile")
	case a.AMI == "" || a.InstanceType == "" || a.ParamPrefix == "" || a.Region == "":
		return fmt.Errorf("compute: BoxArgs needs AMI, InstanceType, ParamPrefix and Region")
	}
	return nil
}

// NewBox creates the box, or (Retired) keeps only its data volume.
func NewBox(ctx *pulumi.Context, name string, args *BoxArgs, opts ...pulumi.ResourceOption) (*Box, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	b := &Box{}
	if err := ctx.RegisterComponentResource("llama:compute:Box", name, b, opts...); err != nil {
		return nil, err
	}
	vol, creds, stored, err := b.data(ctx, name, args)
	if err != nil {
		return nil, err
	}
	outs := pulumi.Map{"dataVolumeId": b.DataVolumeID, "dbSecretArn": b.DBSecretArn}
	if args.Retired {
		return b, ctx.RegisterResourceOutputs(b, outs)
	}
	logPrefix := args.ParamPrefix + "/box"
	var logs []*cloudwatch.LogGroup
	for _, l := range []string{"nginx", "postgresql", "app"} {
		lg, err := monitor.NewLogGroup(ctx, name+"-"+l+"-logs", monitor.LogGroupArgs{Name: logPrefix + "/" + l, RetentionDays: args.LogRetentionDays}, pulumi.Parent(b))
		if err != nil {
			return nil, err
		}
		logs = append(logs, lg)
	}
	inst, err := b.instance(ctx, name, args, vol, creds, stored, logPrefix)
	if err != nil {
		return nil, err
	}
	if err := b.watch(ctx, name, args, inst, vol, logs[0], logs[1]); err != nil {
		return nil, err
	}
	outs["instanceId"], outs["publicIp"], outs["publicDns"] = b.InstanceID, b.PublicIP, b.PublicDNS
	return b, ctx.RegisterResourceOutputs(b, outs)
}

// data creates what outlives the box: PostgreSQL's encrypted, retained volume and the
// credentials that open the data on it.
func (b *Box) data(ctx *pulumi.Context, name string, args *BoxArgs) (*ebs.Volume, *secret.Generated, pulumi.Resource, error) {
	const size = 50 // GiB of gp3 for PostgreSQL's data
	vol, err := ebs.NewVolume(ctx, name+"-data", &ebs.VolumeArgs{
		AvailabilityZone: pulumi.String(args.AZ), Size: pulumi.Int(size), Type: pulumi.String(volumeType),
		Encrypted: pulumi.Bool(true), FinalSnapshot: pulumi.Bool(true),
		Tags: pulumi.StringMap{"Name": pulumi.String(name + "-postgresql-data"), "llama:holds": pulumi.String("postgresql")},
	}, pulumi.Parent(b), pulumi.RetainOnDelete(true), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("box data volume: %w", err)
	}
	b.DataVolumeID = vol.ID().ToStringOutput()
	// The credentials stay with the volume when the box retires: they open the data on it.
	creds, err := secret.New(ctx, name+"-db-credentials", secret.Args{Description: "Credentials of the box's PostgreSQL (user llama)"}, b)
	if err != nil {
		return nil, nil, nil, err
	}
	stored, err := creds.Store(ctx, creds.Password.ApplyT(func(pw string) (string, error) {
		v, err := json.Marshal(map[string]any{"username": LocalDBUser, "password": pw, "engine": "postgres",
			"host": LocalDBHost, "port": LocalDBPort, "dbname": LocalDBName})
		return string(v), err
	}).(pulumi.StringOutput))
	if err != nil {
		return nil, nil, nil, err
	}
	b.DBSecretArn = creds.Arn
	return vol, creds, stored, nil
}

// secretReady is what the instance waits for before it boots: the boot script reads the
// database's credentials once, at first boot (with retries), so the secret's value and, where
// the box grants it, the role's right to read it.
func secretReady(ctx *pulumi.Context, name string, args *BoxArgs, creds *secret.Generated, stored pulumi.Resource, child pulumi.ResourceOption) ([]pulumi.Resource, error) {
	ready := []pulumi.Resource{stored}
	if args.RoleName != nil {
		grant, err := access.NewRolePolicy(ctx, name+"-db-secret-read", args.RoleName, access.ReadSecrets(pulumi.StringArray{creds.Arn}), child)
		if err != nil {
			return nil, fmt.Errorf("box secret grant: %w", err)
		}
		ready = append(ready, grant)
	}
	return ready, nil
}

// webGroup admits the web: nginx serves HTTP on port 80, and HTTPS on 443 only where the box
// has a hostname to obtain a certificate for; without one the port stays closed. (The group's
// description is its first one: a new description would replace the group.)
func webGroup(ctx *pulumi.Context, name string, args *BoxArgs, child pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	ingress := []network.Ingress{{Name: "http", Port: 80, Cidr: "0.0.0.0/0", Description: "HTTP from the internet"}}
	if args.HTTPS {
		ingress = append(ingress, network.Ingress{Name: "https", Port: 443, Cidr: "0.0.0.0/0", Description: "HTTPS from the internet"})
	}
	return network.NewSecurityGroup(ctx, name+"-web-sg", &network.SecurityGroupArgs{
		VpcID: args.VpcID, Description: "The box: HTTP from the internet, nothing else",
		Ingress: ingress, EgressAll: true,
	}, child)
}

// instance creates the instance (HTTP from the internet only), attaches the data volume and
// gives it an Elastic IP.
func (b *Box) instance(ctx *pulumi.Context, name string, args *BoxArgs, vol *ebs.Volume, creds *secret.Generated, stored pulumi.Resource, logPrefix string) (*ec2.Instance, error) {
	child := pulumi.Parent(b)
	ready, err := secretReady(ctx, name, args, creds, stored, child)
	if err != nil {
		return nil, err
	}
	web, err := webGroup(ctx, name, args, child)
	if err != nil {
		return nil, err
	}
	hooks := pulumi.ResourceHooks(&pulumi.ResourceHookBinding{BeforeDelete: args.BeforeDelete})
	userData := pulumi.All(vol.ID(), creds.Arn).ApplyT(func(v []any) (string, error) {
		slow := args.SlowQueryMs
		if slow == 0 {
			slow = 500
		}
		return boot(bootArgs{Box: true, VolumeID: fmt.Sprint(v[0]), DBSecretArn: fmt.Sprint(v[1]), ParamPrefix: args.ParamPrefix,
			LogPrefix: logPrefix, Region: args.Region, SlowQueryMs: slow})
	}).(pulumi.StringOutput)
	inst, err := ec2.NewInstance(ctx, name+"-instance", &ec2.InstanceArgs{
		Ami: pulumi.String(args.AMI), InstanceType: pulumi.String(args.InstanceType),
		SubnetId: args.SubnetID, AvailabilityZone: pulumi.String(args.AZ),
		VpcSecurityGroupIds: pulumi.StringArray{web.ID(), args.AppSecurityGroupID}, IamInstanceProfile: args.InstanceProfile,
		Monitoring: pulumi.Bool(true), EbsOptimized: pulumi.Bool(true),
		MetadataOptions: ec2.InstanceMetadataOptionsArgs{
			HttpTokens: pulumi.String(metadataTokens), HttpEndpoint: pulumi.String("enabled"),
			HttpPutResponseHopLimit: pulumi.Int(metadataHopLimit),
		},
		RootBlockDevice: ec2.InstanceRootBlockDeviceArgs{
			Encrypted: pulumi.Bool(true), VolumeType: pulumi.String(volumeType), VolumeSize: pulumi.Int(rootVolumeGb),
			DeleteOnTermination: pulumi.Bool(true),
		},
		UserData: userData, Tags: pulumi.StringMap{"Name": pulumi.String(name)},
	}, child, hooks, pulumi.DependsOn(ready),
		// The AMI is looked up afresh on every run: a newer one must not replace the box
		// (patch it in place with dnf); the fleet takes new AMIs through instance refresh.
		pulumi.IgnoreChanges([]string{"ami"}))
	if err != nil {
		return nil, fmt.Errorf("box instance: %w", err)
	}
	if _, err := ec2.NewVolumeAttachment(ctx, name+"-data-attachment", &ec2.VolumeAttachmentArgs{
		DeviceName: pulumi.String("/dev/sdf"), InstanceId: inst.ID(), VolumeId: vol.ID(), StopInstanceBeforeDetaching: pulumi.Bool(true),
	}, child); err != nil {
		return nil, fmt.Errorf("box data volume attachment: %w", err)
	}
	eip, err := ec2.NewEip(ctx, name+"-eip", &ec2.EipArgs{Domain: pulumi.String("vpc"), Instance: inst.ID()}, child, hooks)
	if err != nil {
		return nil, fmt.Errorf("box address: %w", err)
	}
	b.InstanceID, b.PublicIP, b.PublicDNS = inst.ID().ToStringOutput(), eip.PublicIp, eip.PublicDns
	return inst, nil
}
