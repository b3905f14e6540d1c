package compute

import (
	"encoding/base64"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/components/network"
	"github.com/llama-stages/llama/components/storage"
)

// FleetArgs configures the load-balanced fleet of Llama 3.0.
type FleetArgs struct {
	VpcID              pulumi.StringInput
	PublicSubnetIDs    pulumi.StringArrayInput // the load balancer's
	PrivateSubnetIDs   pulumi.StringArrayInput // the instances', one per AZ
	AppSecurityGroupID pulumi.StringInput
	AMI                string
	InstanceType       string
	InstanceProfile    pulumi.StringInput
	ParamPrefix        string
	// ReleaseBucket, ReleaseKey and ReleaseSHA256 name the build of the app the instances run;
	// required. The launch template carries them, so a new build rolls the fleet.
	ReleaseBucket pulumi.StringInput
	ReleaseKey    pulumi.StringInput
	ReleaseSHA256 string
	MinSize       int // validated by the config: 1 <= min <= desired <= max, max >= 2
	DesiredSize   int
	MaxSize       int
	// CertificateArn turns on the HTTPS listener (TLS 1.2+ policy) and makes HTTP redirect
	// to HTTPS. Nil: HTTP only.
	CertificateArn pulumi.StringInput
	// OriginCidrs, when set, are the only IPv4 ranges the load balancer admits (a CDN's, so
	// that it cannot be bypassed). Empty: the internet.
	OriginCidrs      []string
	Protect          bool // load balancer deletion protection; protect the log bucket
	LogRetentionDays int
	Region           string
	AccountID        string
	// Monitor receives the fleet's alarms and widgets; nil: none.
	Monitor *monitor.Monitor
	Alarms  monitor.AppAlarms // thresholds; zero fields take their defaults
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

// NewFleet creates the load balancer, its listeners, the launch template and the group.
func NewFleet(ctx *pulumi.Context, name string, args *FleetArgs, opts ...pulumi.ResourceOption) (*Fleet, error) {
	f := &Fleet{}
	if err := ctx.RegisterComponentResource("llama:compute:Fleet", name, f, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(f)

	ingress := []network.Ingress{
		{Name: "http", Port: 80, Cidr: "0.0.0.0/0", Description: "HTTP from the internet"},
		{Name: "https", Port: 443, Cidr: "0.0.0.0/0", Description: "HTTPS from the internet"},
	}
	if len(args.OriginCidrs) > 0 {
		var entries ec2.ManagedPrefixListEntryTypeArray
		for _, c := range args.OriginCidrs {
			entries = append(entries, ec2.ManagedPrefixListEntryTypeArgs{Cidr: pulumi.String(c), Description: pulumi.String("CDN")})
		}
		origins, err := ec2.NewManagedPrefixList(ctx, name+"-origins", &ec2.ManagedPrefixListArgs{
			AddressFamily: pulumi.String("IPv4"), MaxEntries: pulumi.Int(len(args.OriginCidrs) + 10), Entries: entries,
			Name: pulumi.String(name + "-cdn-origins"),
		}, child)
		if err != nil {
			return nil, fmt.Errorf("origin prefix list: %w", err)
		}
		ingress = []network.Ingress{
			{Name: "http-cdn", Port: 80, PrefixList: origins.ID(), Description: "HTTP from the CDN only"},
			{Name: "https-cdn", Port: 443, PrefixList: origins.ID(), Description: "HTTPS from the CDN only"},
		}
	}
	lbSG, err := network.NewSecurityGroup(ctx, name+"-lb-sg", &network.SecurityGroupArgs{
		VpcID: args.VpcID, Description: "The load balancer: HTTP and HTTPS from the internet, or from the CDN only",
		Ingress: ingress, EgressAll: true,
	}, child)
	if err != nil {
		return nil, err
	}
	instSG, err := network.NewSecurityGroup(ctx, name+"-instance-sg", &network.SecurityGroupArgs{
		VpcID: args.VpcID, Description: "Fleet instances: HTTP from the load balancer only",
		Ingress:   []network.Ingress{{Name: "http-from-lb", Port: 80, SourceGroup: lbSG.ID(), Description: "HTTP from the load balancer"}},
		EgressAll: true,
	}, child)
	if err != nil {
		return nil, err
	}

	deliverer, err := logDeliveryARN(ctx, args.Region)
	if err != nil {
		return nil, err
	}
	logs, err := storage.NewBucket(ctx, name+"-access-logs", &storage.BucketArgs{
		Protect: args.Protect, S3ManagedKeys: true, ExpireDays: args.LogRetentionDays, NoncurrentDays: 7,
		LogDelivery: true, LogDeliveryARN: deliverer, AccountID: args.AccountID,
	}, child)
	if err != nil {
		return nil, err
	}
	alb, err := lb.NewLoadBalancer(ctx, name+"-alb", &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(false),
		Subnets:                  args.PublicSubnetIDs,
		SecurityGroups:           pulumi.StringArray{lbSG.ID()},
		DropInvalidHeaderFields:  pulumi.Bool(true),
		EnableDeletionProtection: pulumi.Bool(args.Protect),
		EnableHttp2:              pulumi.Bool(true),
		IdleTimeout:              pulumi.Int(60),
		AccessLogs:               lb.LoadBalancerAccessLogsArgs{Bucket: logs.Name, Enabled: pulumi.Bool(true)},
	}, child, pulumi.DependsOn([]pulumi.Resource{logs}))
	if err != nil {
		return nil, fmt.Errorf("load balancer: %w", err)
	}
	tg, err := lb.NewTargetGroup(ctx, name+"-tg", &lb.TargetGroupArgs{
		Port: pulumi.Int(80), Protocol: pulumi.String("HTTP"), VpcId: args.VpcID, TargetType: pulumi.String("instance"),
		DeregistrationDelay: pulumi.Int(30),
		HealthCheck: lb.TargetGroupHealthCheckArgs{
			Path: pulumi.String("/health"), Matcher: pulumi.String("200"), Interval: pulumi.Int(15),
			HealthyThreshold: pulumi.Int(2), UnhealthyThreshold: pulumi.Int(3), Timeout: pulumi.Int(5),
		},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("target group: %w", err)
	}
	forward := lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn}}
	httpAction := forward
	if args.CertificateArn != nil {
		httpAction = lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: lb.ListenerDefaultActionRedirectArgs{
				Protocol: pulumi.String("HTTPS"), Port: pulumi.String("443"), StatusCode: pulumi.String("HTTP_301"),
			},
		}}
		if _, err := lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn, Port: pulumi.Int(443), Protocol: pulumi.String("HTTPS"),
			SslPolicy: pulumi.String("ELBSecurityPolicy-TLS13-1-2-2021-06"), CertificateArn: args.CertificateArn,
			DefaultActions: forward,
		}, child); err != nil {
			return nil, fmt.Errorf("HTTPS listener: %w", err)
		}
	}
	if _, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn, Port: pulumi.Int(80), Protocol: pulumi.String("HTTP"), DefaultActions: httpAction,
	}, child); err != nil {
		return nil, fmt.Errorf("HTTP listener: %w", err)
	}

	userData := pulumi.All(args.ReleaseBucket, args.ReleaseKey).ApplyT(func(v []any) (string, error) {
		script, err := boot(bootArgs{ParamPrefix: args.ParamPrefix, LogPrefix: args.ParamPrefix + "/fleet", Region: args.Region,
			Release: &releaseRef{Bucket: fmt.Sprint(v[0]), Key: fmt.Sprint(v[1]), SHA256: args.ReleaseSHA256}})
		return base64.StdEncoding.EncodeToString([]byte(script)), err
	}).(pulumi.StringOutput)
	for _, log := range []string{"nginx", "app"} {
		if _, err := monitor.NewLogGroup(ctx, name+"-"+log+"-logs", monitor.LogGroupArgs{Name: args.ParamPrefix + "/fleet/" + log, RetentionDays: args.LogRetentionDays}, child); err != nil {
			return nil, err
		}
	}
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-lt", &ec2.LaunchTemplateArgs{
		ImageId:            pulumi.String(args.AMI),
		InstanceType:       pulumi.String(args.InstanceType),
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
		UserData:             userData,
		UpdateDefaultVersion: pulumi.Bool(true),
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{ec2.LaunchTemplateTagSpecificationArgs{
			ResourceType: pulumi.String("instance"), Tags: pulumi.StringMap{"Name": pulumi.String(name)},
		}},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("launch template: %w", err)
	}
	asg, err := autoscaling.NewGroup(ctx, name+"-asg", &autoscaling.GroupArgs{
		VpcZoneIdentifiers:     args.PrivateSubnetIDs,
		MinSize:                pulumi.Int(args.MinSize),
		MaxSize:                pulumi.Int(args.MaxSize),
		DesiredCapacity:        pulumi.Int(args.DesiredSize),
		HealthCheckType:        pulumi.String("ELB"),
		HealthCheckGracePeriod: pulumi.Int(300),
		TargetGroupArns:        pulumi.StringArray{tg.Arn},
		LaunchTemplate:         autoscaling.GroupLaunchTemplateArgs{Id: lt.ID(), Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput)},
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
	}, child)
	if err != nil {
		return nil, fmt.Errorf("auto scaling group: %w", err)
	}
	if _, err := autoscaling.NewPolicy(ctx, name+"-cpu-target", &autoscaling.PolicyArgs{
		AutoscalingGroupName: asg.Name, PolicyType: pulumi.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: autoscaling.PolicyTargetTrackingConfigurationArgs{
			PredefinedMetricSpecification: autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
				PredefinedMetricType: pulumi.String("ASGAverageCPUUtilization"),
			},
			TargetValue: pulumi.Float64(50),
		},
	}, child); err != nil {
		return nil, fmt.Errorf("scaling policy: %w", err)
	}
	f.LoadBalancerDNS, f.LoadBalancerArn, f.AutoScalingGroup = alb.DnsName, alb.Arn, asg.Name
	if err := f.watch(ctx, name, args.Monitor, args.Alarms, alb, tg, asg.Name); err != nil {
		return nil, err
	}
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{
		"loadBalancerDns": f.LoadBalancerDNS, "loadBalancerArn": f.LoadBalancerArn, "autoScalingGroup": f.AutoScalingGroup,
	})
}
