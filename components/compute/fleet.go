package compute

import (
	"encoding/base64"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/components/network"
	"github.com/llama-stages/llama/components/storage"
)

// HealthPath is what the load balancer asks each instance: nginx passes it to the app, which
// answers 200 while it serves.
const HealthPath = "/health/live"

// The fleet's bounds: its maximum leaves room for a second instance (an instance refresh and an
// AZ outage need one), and no group grows past MaxFleetSize instances, a bound that keeps a
// typo from buying a hundred thousand.
const (
	MinFleetMax  = 2
	MaxFleetSize = 100
)

// FleetArgs configures the load-balanced fleet of Llama 3.0.
type FleetArgs struct {
	VpcID              pulumi.StringInput      // required
	PublicSubnetIDs    pulumi.StringArrayInput // required: the load balancer's
	PrivateSubnetIDs   pulumi.StringArrayInput // required: the instances', one per AZ
	AppSecurityGroupID pulumi.StringInput      // required: the app's group, admitted by the data tier
	AMI                string                  // required
	InstanceType       string                  // required
	InstanceProfile    pulumi.StringInput      // required: the app's role
	ParamPrefix        string                  // required: the app's parameters and the log groups' prefix
	// ReleaseBucket, ReleaseKey and ReleaseSHA256 name the build of the app the instances run;
	// required. The launch template carries them, so a new build rolls the fleet.
	ReleaseBucket pulumi.StringInput
	ReleaseKey    pulumi.StringInput
	ReleaseSHA256 string
	MinSize       int // required: 1 <= min <= desired <= max, MinFleetMax <= max <= MaxFleetSize
	DesiredSize   int
	MaxSize       int
	// CertificateArn turns on the HTTPS listener (TLS 1.2+ policy) and makes HTTP redirect
	// to HTTPS. Nil: HTTP only.
	CertificateArn pulumi.StringInput
	// OriginCidrs, when set, are the only IPv4 ranges the load balancer admits (a CDN's, so
	// that it cannot be bypassed). Empty: the internet.
	OriginCidrs []string
	// Account: Region (where the access logs are delivered from) and AccountID (owns the
	// access log bucket) are required.
	access.Account
	// Ops: Protect turns on the load balancer's deletion protection and protects the log bucket; the retention covers the access logs too; the log retention; the monitor that receives alarms and widgets.
	monitor.Ops
	Alarms monitor.AppAlarms // thresholds; zero fields take their defaults
}

// Fleet is an Application Load Balancer in front of an Auto Scaling Group of hardened, private,
// stateless app instances.
type Fleet struct {
	pulumi.ResourceState

	LoadBalancerDNS  pulumi.StringOutput `pulumi:"loadBalancerDns"`
	LoadBalancerArn  pulumi.StringOutput `pulumi:"loadBalancerArn"`
	AutoScalingGroup pulumi.StringOutput `pulumi:"autoScalingGroup"`
}

// logDeliveryServiceRegions opened after August 2022: their load balancers deliver access
// logs as the log-delivery service principal, not as a regional ELB account (ELB User Guide,
// "Enable access logs for your Application Load Balancer", step 2: the bucket policy).
var logDeliveryServiceRegions = map[string]bool{
	"ap-south-2": true, "ap-southeast-3": true, "ap-southeast-4": true, "ap-southeast-5": true, "ap-southeast-7": true,
	"ca-west-1": true, "eu-central-2": true, "eu-south-2": true, "il-central-1": true, "me-central-1": true, "mx-central-1": true,
}

// logDeliveryARN is who writes the region's access logs: the regional ELB account the
// provider knows (in the region's partition), or "" for the log-delivery service.
func logDeliveryARN(ctx *pulumi.Context, region string) (string, error) {
	if logDeliveryServiceRegions[region] {
		return "", nil
	}
	acct, err := elb.GetServiceAccount(ctx, &elb.GetServiceAccountArgs{Region: pulumi.StringRef(region)})
	if err != nil {
		return "", fmt.Errorf("looking up the load balancer log account of %s: %w", region, err)
	}
	return acct.Arn, nil
}

func (a *FleetArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("compute: NewFleet needs FleetArgs")
	case a.VpcID == nil || a.PublicSubnetIDs == nil || a.PrivateSubnetIDs == nil || a.AppSecurityGroupID == nil:
		return fmt.Errorf("compute: FleetArgs needs VpcID, PublicSubnetIDs, PrivateSubnetIDs and AppSecurityGroupID")
	case a.AMI == "" || a.InstanceType == "" || a.InstanceProfile == nil || a.ParamPrefix == "":
		return fmt.Errorf("compute: FleetArgs needs AMI, InstanceType, InstanceProfile and ParamPrefix")
	case a.ReleaseBucket == nil || a.ReleaseKey == nil || a.ReleaseSHA256 == "":
		return fmt.Errorf("compute: FleetArgs needs the release (ReleaseBucket, ReleaseKey, ReleaseSHA256)")
	case a.Region == "" || a.AccountID == "":
		return fmt.Errorf("compute: FleetArgs needs Region and AccountID")
	case a.MinSize < 1 || a.DesiredSize < a.MinSize || a.MaxSize < a.DesiredSize || a.MaxSize < MinFleetMax || a.MaxSize > MaxFleetSize:
		return fmt.Errorf("compute: FleetArgs sizes %d/%d/%d: want 1 <= min <= desired <= max, %d <= max <= %d", a.MinSize, a.DesiredSize, a.MaxSize, MinFleetMax, MaxFleetSize)
	}
	return nil
}

// NewFleet creates the load balancer, its listeners, the launch template and the group.
func NewFleet(ctx *pulumi.Context, name string, args *FleetArgs, opts ...pulumi.ResourceOption) (*Fleet, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	f := &Fleet{}
	if err := ctx.RegisterComponentResource("llama:compute:Fleet", name, f, opts...); err != nil {
		return nil, err
	}
	b := fleetBuild{ctx: ctx, name: name, args: args, child: pulumi.Parent(f)}
	lbSG, instSG, err := b.securityGroups()
	if err != nil {
		return nil, err
	}
	alb, tg, err := b.loadBalancer(lbSG)
	if err != nil {
		return nil, err
	}
	lt, err := b.launchTemplate(instSG)
	if err != nil {
		return nil, err
	}
	asg, err := b.group(lt, tg)
	if err != nil {
		return nil, err
	}
	f.LoadBalancerDNS, f.LoadBalancerArn, f.AutoScalingGroup = alb.DnsName, alb.Arn, asg.Name
	if err := f.watch(ctx, name, args.Monitor, args.Alarms, alb, tg, asg.Name); err != nil {
		return nil, err
	}
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{
		"loadBalancerDns": f.LoadBalancerDNS, "loadBalancerArn": f.LoadBalancerArn, "autoScalingGroup": f.AutoScalingGroup,
	})
}

// fleetBuild creates the fleet's parts, each step a method.
type fleetBuild struct {
	ctx   *pulumi.Context
	name  string
	args  *FleetArgs
	child pulumi.ResourceOption
}

// securityGroups: the load balancer admits HTTP, and HTTPS where it has a certificate, from
// the internet or from the CDN's ranges only; the instances admit the load balancer only.
func (b fleetBuild) securityGroups() (lbSG, instSG *ec2.SecurityGroup, err error) {
	ctx, name, args := b.ctx, b.name, b.args
	// Port 443 opens only where the HTTPS listener listens, with a certificate.
	https := args.CertificateArn != nil
	ingress := []network.Ingress{{Name: "http", Port: 80, Cidr: "0.0.0.0/0", Description: "HTTP from the internet"}}
	if https {
		ingress = append(ingress, network.Ingress{Name: "https", Port: 443, Cidr: "0.0.0.0/0", Description: "HTTPS from the internet"})
	}
	if len(args.OriginCidrs) > 0 {
		var entries ec2.ManagedPrefixListEntryTypeArray
		for _, c := range args.OriginCidrs {
			entries = append(entries, ec2.ManagedPrefixListEntryTypeArgs{Cidr: pulumi.String(c), Description: pulumi.String("CDN")})
		}
		origins, err := ec2.NewManagedPrefixList(ctx, name+"-origins", &ec2.ManagedPrefixListArgs{
			AddressFamily: pulumi.String("IPv4"), MaxEntries: pulumi.Int(len(args.OriginCidrs) + 10), Entries: entries,
			Name: pulumi.String(name + "-cdn-origins"),
		}, b.child)
		if err != nil {
			return nil, nil, fmt.Errorf("origin prefix list: %w", err)
		}
		ingress = []network.Ingress{{Name: "http-cdn", Port: 80, PrefixList: origins.ID(), Description: "HTTP from the CDN only"}}
		if https {
			ingress = append(ingress, network.Ingress{Name: "https-cdn", Port: 443, PrefixList: origins.ID(), Description: "HTTPS from the CDN only"})
		}
	}
	lbSG, err = network.NewSecurityGroup(ctx, name+"-lb-sg", &network.SecurityGroupArgs{
		VpcID: args.VpcID, Description: "The load balancer: HTTP and HTTPS from the internet, or from the CDN only",
		Ingress: ingress, EgressAll: true,
	}, b.child)
	if err != nil {
		return nil, nil, err
	}
	instSG, err = network.NewSecurityGroup(ctx, name+"-instance-sg", &network.SecurityGroupArgs{
		VpcID: args.VpcID, Description: "Fleet instances: HTTP from the load balancer only",
		Ingress:   []network.Ingress{{Name: "http-from-lb", Port: 80, SourceGroup: lbSG.ID(), Description: "HTTP from the load balancer"}},
		EgressAll: true,
	}, b.child)
	return lbSG, instSG, err
}

// loadBalancer: the ALB with its access logs, the target group checking the app's /health,
// and the listeners (HTTP redirecting to HTTPS where there is a certificate).
func (b fleetBuild) loadBalancer(lbSG *ec2.SecurityGroup) (*lb.LoadBalancer, *lb.TargetGroup, error) {
	ctx, name, args := b.ctx, b.name, b.args
	deliverer, err := logDeliveryARN(ctx, args.Region)
	if err != nil {
		return nil, nil, err
	}
	logs, err := storage.NewBucket(ctx, name+"-access-logs", &storage.BucketArgs{
		Protect: args.Protect, S3ManagedKeys: true, ExpireDays: args.Retention(), NoncurrentDays: 7,
		LogDelivery: true, LogDeliveryARN: deliverer, AccountID: args.AccountID,
	}, b.child)
	if err != nil {
		return nil, nil, err
	}
	alb, err := lb.NewLoadBalancer(ctx, name+"-alb", &lb.LoadBalancerArgs{
		LoadBalancerType: pulumi.String("application"), Internal: pulumi.Bool(false),
		Subnets: args.PublicSubnetIDs, SecurityGroups: pulumi.StringArray{lbSG.ID()},
		DropInvalidHeaderFields: pulumi.Bool(true), EnableDeletionProtection: pulumi.Bool(args.Protect),
		EnableHttp2: pulumi.Bool(true), IdleTimeout: pulumi.Int(60),
		AccessLogs: lb.LoadBalancerAccessLogsArgs{Bucket: logs.Name, Enabled: pulumi.Bool(true)},
	}, b.child, pulumi.DependsOn([]pulumi.Resource{logs}))
	if err != nil {
		return nil, nil, fmt.Errorf("load balancer: %w", err)
	}
	tg, err := lb.NewTargetGroup(ctx, name+"-tg", &lb.TargetGroupArgs{
		Port: pulumi.Int(80), Protocol: pulumi.String("HTTP"), VpcId: args.VpcID, TargetType: pulumi.String("instance"),
		DeregistrationDelay: pulumi.Int(30),
		HealthCheck: lb.TargetGroupHealthCheckArgs{
			// Shallow: the app's process answers. A deep check (/health, the database) would
			// have the group replace every instance during a database outage (AWS Builders'
			// Library, "Implementing health checks": dependencies in a load balancer's check
			// turn one failure into a fleet-wide one).
			Path: pulumi.String(HealthPath), Matcher: pulumi.String("200"), Interval: pulumi.Int(15),
			HealthyThreshold: pulumi.Int(2), UnhealthyThreshold: pulumi.Int(3), Timeout: pulumi.Int(5),
		},
	}, b.child)
	if err != nil {
		return nil, nil, fmt.Errorf("target group: %w", err)
	}
	return alb, tg, b.listeners(alb, tg)
}

// listeners: HTTPS (TLS 1.2 and 1.3) forwarding to the group and HTTP redirecting to it, or
// HTTP forwarding where there is no certificate.
func (b fleetBuild) listeners(alb *lb.LoadBalancer, tg *lb.TargetGroup) error {
	forward := lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn}}
	httpAction := forward
	if b.args.CertificateArn != nil {
		httpAction = lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: lb.ListenerDefaultActionRedirectArgs{
				Protocol: pulumi.String("HTTPS"), Port: pulumi.String("443"), StatusCode: pulumi.String("HTTP_301"),
			},
		}}
		if _, err := lb.NewListener(b.ctx, b.name+"-https", &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn, Port: pulumi.Int(443), Protocol: pulumi.String("HTTPS"),
			SslPolicy: pulumi.String("ELBSecurityPolicy-TLS13-1-2-2021-06"), CertificateArn: b.args.CertificateArn,
			DefaultActions: forward,
		}, b.child); err != nil {
			return fmt.Errorf("HTTPS listener: %w", err)
		}
	}
	if _, err := lb.NewListener(b.ctx, b.name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn, Port: pulumi.Int(80), Protocol: pulumi.String("HTTP"), DefaultActions: httpAction,
	}, b.child); err != nil {
		return fmt.Errorf("HTTP listener: %w", err)
	}
	return nil
}

// launchTemplate: hardened, private instances that boot the named release of the app.
func (b fleetBuild) launchTemplate(instSG *ec2.SecurityGroup) (*ec2.LaunchTemplate, error) {
	ctx, name, args := b.ctx, b.name, b.args
	userData := pulumi.All(args.ReleaseBucket, args.ReleaseKey).ApplyT(func(v []any) (string, error) {
		script, err := boot(bootArgs{ParamPrefix: args.ParamPrefix, LogPrefix: args.ParamPrefix + "/fleet", Region: args.Region,
			Release: &releaseRef{Bucket: fmt.Sprint(v[0]), Key: fmt.Sprint(v[1]), SHA256: args.ReleaseSHA256}})
		return base64.StdEncoding.EncodeToString([]byte(script)), err
	}).(pulumi.StringOutput)
	for _, log := range []string{"nginx", "app"} {
		if _, err := monitor.NewLogGroup(ctx, name+"-"+log+"-logs", monitor.LogGroupArgs{Name: args.ParamPrefix + "/fleet/" + log, RetentionDays: args.LogRetentionDays}, b.child); err != nil {
			return nil, err
		}
	}
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-lt", &ec2.LaunchTemplateArgs{
		ImageId: pulumi.String(args.AMI), InstanceType: pulumi.String(args.InstanceType),
		IamInstanceProfile: ec2.LaunchTemplateIamInstanceProfileArgs{Name: args.InstanceProfile},
		MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
			HttpTokens: pulumi.String(metadataTokens), HttpEndpoint: pulumi.String("enabled"),
			HttpPutResponseHopLimit: pulumi.Int(metadataHopLimit),
		},
		Monitoring:   ec2.LaunchTemplateMonitoringArgs{Enabled: pulumi.Bool(true)},
		EbsOptimized: pulumi.String("true"),
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				Encrypted: pulumi.String("true"), VolumeType: pulumi.String(volumeType), VolumeSize: pulumi.Int(rootVolumeGb),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		NetworkInterfaces: ec2.LaunchTemplateNetworkInterfaceArray{ec2.LaunchTemplateNetworkInterfaceArgs{
			AssociatePublicIpAddress: pulumi.String("false"), DeviceIndex: pulumi.Int(0),
			SecurityGroups: pulumi.StringArray{instSG.ID(), args.AppSecurityGroupID},
		}},
		UserData: userData, UpdateDefaultVersion: pulumi.Bool(true),
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{ec2.LaunchTemplateTagSpecificationArgs{
			ResourceType: pulumi.String("instance"), Tags: pulumi.StringMap{"Name": pulumi.String(name)},
		}},
	}, b.child)
	if err != nil {
		return nil, fmt.Errorf("launch template: %w", err)
	}
	return lt, nil
}

// group: the Auto Scaling group over the private subnets, refreshed on a new launch template
// version, scaling on CPU.
func (b fleetBuild) group(lt *ec2.LaunchTemplate, tg *lb.TargetGroup) (*autoscaling.Group, error) {
	args := b.args
	asg, err := autoscaling.NewGroup(b.ctx, b.name+"-asg", &autoscaling.GroupArgs{
		VpcZoneIdentifiers: args.PrivateSubnetIDs,
		MinSize:            pulumi.Int(args.MinSize), MaxSize: pulumi.Int(args.MaxSize), DesiredCapacity: pulumi.Int(args.DesiredSize),
		HealthCheckType: pulumi.String("ELB"), HealthCheckGracePeriod: pulumi.Int(300),
		TargetGroupArns: pulumi.StringArray{tg.Arn},
		LaunchTemplate:  autoscaling.GroupLaunchTemplateArgs{Id: lt.ID(), Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput)},
		// A new launch template version (a new build, a new AMI) replaces the instances
		// launch-before-terminate: capacity never drops below desired, and an instance
		// serves only once the target group's check of the app's /health passes.
		InstanceRefresh: autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage: pulumi.Int(100), MaxHealthyPercentage: pulumi.Int(200),
				InstanceWarmup: pulumi.String("120"),
			},
		},
		EnabledMetrics: pulumi.StringArray{pulumi.String("GroupInServiceInstances"), pulumi.String("GroupDesiredCapacity")},
		Tags: autoscaling.GroupTagArray{autoscaling.GroupTagArgs{
			Key: pulumi.String("llama:tier"), Value: pulumi.String("web"), PropagateAtLaunch: pulumi.Bool(true),
		}},
	}, b.child,
		// Target tracking owns the desired capacity once the group exists: setting it on every
		// up would shrink a scaled-out fleet to its floor (terraform-aws-modules/autoscaling's
		// ignore_desired_capacity_changes).
		pulumi.IgnoreChanges([]string{"desiredCapacity"}))
	if err != nil {
		return nil, fmt.Errorf("auto scaling group: %w", err)
	}
	if _, err := autoscaling.NewPolicy(b.ctx, b.name+"-cpu-target", &autoscaling.PolicyArgs{
		AutoscalingGroupName: asg.Name, PolicyType: pulumi.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: autoscaling.PolicyTargetTrackingConfigurationArgs{
			PredefinedMetricSpecification: autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
				PredefinedMetricType: pulumi.String("ASGAverageCPUUtilization"),
			},
			TargetValue: pulumi.Float64(50),
		},
	}, b.child); err != nil {
		return nil, fmt.Errorf("scaling policy: %w", err)
	}
	return asg, nil
}
