package offline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/llama-stages/llama/contract"
)

// Kind is what the offline engine and the previews know about one resource type.
type Kind struct {
	// Outputs sets the outputs the provider computes and returns the resource's ID, in the
	// provider's format; "" gives a random one.
	Outputs func(s *state) string
	// Stateful types hold data: deleting or replacing one loses it (a read replica, which
	// holds a copy, excepted).
	Stateful bool
	// ForceNew are the inputs the provider cannot change in place (its ForceNew arguments,
	// nested ones written parent.child): changing one replaces the resource.
	ForceNew []string
	// Computed are the ForceNew inputs the provider computes when left unset (Optional and
	// Computed in its schema): a program that stops setting one keeps the value. Any other
	// ForceNew input the program stops setting replaces.
	Computed []string
	// FollowsReferent are inputs that are not ForceNew but still replace the resource when
	// what they refer to is replaced (AWS refuses to move a subnet group to another VPC).
	FollowsReferent []string
	// ReplacesWhen holds the replacements no single input flags: a condition on the old and
	// new inputs.
	ReplacesWhen func(old, new map[string]any) bool
	// Labels are the inputs worth a glance in a plan's tree.
	Labels []string
	// Watch, for a type every stage must monitor, says how to check it is.
	Watch *Watch
	// Free types cost nothing themselves (configuration, identity, networking glue), or are
	// priced through another item; FreeWhy says which, for the estimate. A type neither free
	// nor priced in cost/types.go is an error of the estimate.
	Free    bool
	FreeWhy string
	// FreeWhen, where set, is the attribute that makes a resource of a free type free: an
	// interface endpoint costs by the hour though a gateway endpoint does not. A resource for
	// which it is false is priced in cost/types.go like any other.
	FreeWhen func(inputs map[string]any) bool
	// Public types are what the internet reaches: a load balancer, an address, an API, a
	// proxied record. The diff lists them among what matters.
	Public bool
	// Serves marks what clients reach the app through: deleting or replacing one takes
	// traffic away from a published name (the diff's outage).
	Serves bool
	// NamedBy is the input other resources refer to one of this type by, where it is not its
	// ID (an RDS instance's identifier).
	NamedBy string
}

// Watch is how CloudWatch names a monitored resource in its metrics' dimensions, and which
// metrics (or metric-math ids) must have an alarm.
type Watch struct {
	Name   func(r *Resource) string
	Alarms []string
	// Skip, where set, exempts a resource that serves nothing (a function only the deploy
	// invokes, whose failure fails the deploy).
	Skip func(r *Resource) bool
}

// Unwatched reports whether a resource of a watched type is exempt from watching: it serves
// nothing (Watch.Skip).
func Unwatched(r *Resource) bool {
	w := KindOf(r.Type).Watch
	return w != nil && w.Skip != nil && w.Skip(r)
}

// invokedByDeploy reports whether a function is one the deploy alone invokes.
func invokedByDeploy(r *Resource) bool {
	tags, _ := r.Inputs["tags"].(map[string]any)
	_, ok := tags[contract.DeployTag]
	return ok
}

// IsFree reports whether a resource of the kind costs nothing itself: its type is free, and
// the attribute that decides holds.
func (k *Kind) IsFree(inputs map[string]any) bool {
	return k.Free && (k.FreeWhen == nil || k.FreeWhen(inputs))
}

// KindOf returns a type's catalog entry; an empty one for a type it does not hold.
func KindOf(typ string) *Kind {
	if k := Catalog[typ]; k != nil {
		return k
	}
	return &Kind{}
}

func str(v any) string { s, _ := v.(string); return s }

// replicationGroupReplaced: a replication group cannot change engine (valkey to redis; redis
// to valkey is an upgrade ElastiCache applies in place) nor move its engine version down.
func replicationGroupReplaced(a, b map[string]any) bool {
	ea, eb := fmt.Sprint(a["engine"]), fmt.Sprint(b["engine"])
	if ea != eb && !(ea == "redis" && eb == "valkey") {
		return true
	}
	return ea == eb && versionBelow(fmt.Sprint(b["engineVersion"]), fmt.Sprint(a["engineVersion"]))
}

// versionBelow reports whether dotted version x is below y (7.0 < 7.1 < 8.0).
func versionBelow(x, y string) bool {
	xs, ys := strings.Split(x, "."), strings.Split(y, ".")
	for i := 0; i < len(xs) && i < len(ys); i++ {
		var a, b int
		fmt.Sscan(xs[i], &a)
		fmt.Sscan(ys[i], &b)
		if a != b {
			return a < b
		}
	}
	return len(xs) < len(ys)
}

// Catalog is everything the offline engine and the previews know about each resource type the
// program registers, one entry per type: the outputs the provider computes (realistic in
// shape), whether it holds data, which inputs replace it, what a plan's tree shows of it and,
// for a type a stage must watch, how CloudWatch names it and which alarms it needs. Adding a
// type is one entry here; a test holds every type the program registers to an entry, and every
// entry to a type some rung uses.
var Catalog = map[string]*Kind{
	"aws:ec2/vpc:Vpc": {
		Free: true,
		Outputs: func(s *state) string {
			id := "vpc-" + s.hex(17)
			s.set("arn", s.arn("ec2", "vpc/"+id))
			s.set("defaultSecurityGroupId", "sg-"+s.hex(17))
			s.set("mainRouteTableId", "rtb-"+s.hex(17))
			return id
		},
		ForceNew: []string{"cidrBlock", "ipv4IpamPoolId"},
		Labels:   []string{"cidrBlock"},
	},
	"aws:ec2/subnet:Subnet": {
		Free: true,
		Outputs: func(s *state) string {
			id := "subnet-" + s.hex(17)
			s.set("arn", s.arn("ec2", "subnet/"+id))
			return id
		},
		ForceNew: []string{"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"},
		Computed: []string{"availabilityZone", "availabilityZoneId"},
		Labels:   []string{"availabilityZone", "cidrBlock"},
	},
	"aws:ec2/internetGateway:InternetGateway": {
		Free: true,
		Outputs: func(s *state) string {
			return "igw-" + s.hex(17)
		},
		ForceNew: []string{},
	},
	"aws:ec2/eip:Eip": {
		Public: true,
		Outputs: func(s *state) string {
			r := s.m.region
			id := "eipalloc-" + s.hex(17)
			ip := fmt.Sprintf("54.%d.%d.%d", s.byte(0), s.byte(1), s.byte(2))
			s.set("publicIp", ip)
			s.set("allocationId", id)
			s.set("publicDns", "ec2-"+strings.ReplaceAll(ip, ".", "-")+"."+compute(r))
			return id
		},
		ForceNew: []string{"domain", "address", "publicIpv4Pool", "networkBorderGroup"},
		Computed: []string{"domain", "address", "publicIpv4Pool", "networkBorderGroup"},
	},
	"aws:ec2/natGateway:NatGateway": {
		Outputs: func(s *state) string {
			return "nat-" + s.hex(17)
		},
		ForceNew: []string{"allocationId", "subnetId", "connectivityType", "privateIp"},
		Computed: []string{"connectivityType", "privateIp"},
	},
	"aws:ec2/routeTable:RouteTable": {
		Free: true,
		Outputs: func(s *state) string {
			return "rtb-" + s.hex(17)
		},
		ForceNew: []string{"vpcId"},
	},

	"aws:ec2/routeTableAssociation:RouteTableAssociation": {
		Free: true,
		Outputs: func(s *state) string {
			return "rtbassoc-" + s.hex(17)
		},
		ForceNew: []string{"subnetId", "gatewayId"},
	},
	"aws:ec2/vpcEndpoint:VpcEndpoint": {
		// VPC pricing: gateway endpoints (S3, DynamoDB) are free; interface endpoints bill by
		// the hour in each AZ and by the GB.
		Free: true, FreeWhy: "gateway endpoints (S3, DynamoDB) are free",
		FreeWhen: func(in map[string]any) bool { return in["vpcEndpointType"] == "Gateway" },
		Outputs: func(s *state) string {
			id := "vpce-" + s.hex(17)
			s.set("prefixListId", "pl-"+s.hex(8))
			return id
		},
		ForceNew: []string{"vpcId", "serviceName", "vpcEndpointType"},
		Computed: []string{"vpcEndpointType"},
	},
	"aws:ec2/managedPrefixList:ManagedPrefixList": {
		Free: true,
		Outputs: func(s *state) string {
			id := "pl-" + s.hex(17)
			s.set("arn", s.arn("ec2", "prefix-list/"+id))
			s.set("version", 1)
			return id
		},
		ForceNew: []string{"addressFamily"},
	},
	"aws:ec2/flowLog:FlowLog": {
		Free: true, FreeWhy: "priced through its log group",
		Outputs: func(s *state) string {
			return "fl-" + s.hex(17)
		},
		ForceNew: []string{"vpcId", "trafficType", "logDestination", "logDestinationType", "iamRoleArn", "maxAggregationInterval", "logFormat"},
	},
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {
		Free:     true,
		Outputs:  outDefaultSecurityGroupEtc,
		ForceNew: []string{"vpcId"},
	},
	"aws:ec2/securityGroup:SecurityGroup": {
		Free:     true,
		Outputs:  outDefaultSecurityGroupEtc,
		ForceNew: []string{"name", "namePrefix", "vpcId", "description"},
	},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
		Free:     true,
		Outputs:  outSecurityGroupRule,
		ForceNew: []string{"securityGroupId"},
		Labels:   []string{"fromPort", "cidrIpv4"},
	},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
		Free:     true,
		Outputs:  outSecurityGroupRule,
		ForceNew: []string{"securityGroupId"},
	},
	"aws:ec2/instance:Instance": {
		Outputs: func(s *state) string {
			r := s.m.region
			id := "i-" + s.hex(17)
			s.set("arn", s.arn("ec2", "instance/"+id))
			s.set("privateIp", s.addressIn(s.in("subnetId")))
			s.set("publicIp", fmt.Sprintf("3.%d.%d.%d", s.byte(0), s.byte(1), s.byte(2)))
			s.set("publicDns", "ec2-3-"+s.hex(4)+"."+compute(r))
			s.set("primaryNetworkInterfaceId", "eni-"+s.hex(17))
			return id
		},
		ForceNew: []string{"ami", "availabilityZone", "subnetId", "privateIp", "keyName", "associatePublicIpAddress", "placementGroup", "ebsOptimized", "rootBlockDevice.encrypted", "rootBlockDevice.kmsKeyId"},
		Computed: []string{"availabilityZone", "subnetId", "privateIp", "placementGroup", "associatePublicIpAddress", "ebsOptimized", "rootBlockDevice.kmsKeyId", "rootBlockDevice.encrypted"},
		Labels:   []string{"instanceType", "availabilityZone"},
		Watch:    &Watch{Name: func(r *Resource) string { return r.ID }, Alarms: []string{"StatusCheckFailed", "CPUUtilization"}},
	},
	"aws:ebs/volume:Volume": {
		Outputs: func(s *state) string {
			id := "vol-" + s.hex(17)
			s.set("arn", s.arn("ec2", "volume/"+id))
			return id
		},
		Stateful: true,
		ForceNew: []string{"availabilityZone", "encrypted", "kmsKeyId", "snapshotId"},
		Computed: []string{"kmsKeyId", "encrypted"},
		Labels:   []string{"size", "type", "encrypted"},
	},
	"aws:ec2/volumeAttachment:VolumeAttachment": {
		Free: true,
		Outputs: func(s *state) string {
			return "vai-" + s.hex(10)
		},
		ForceNew: []string{"deviceName", "instanceId", "volumeId"},
	},
	"aws:ec2/launchTemplate:LaunchTemplate": {
		Free: true, FreeWhy: "priced through its group",
		Outputs: func(s *state) string {
			id := "lt-" + s.hex(17)
			s.set("arn", s.arn("ec2", "launch-template/"+id))
			s.set("latestVersion", 1)
			s.set("defaultVersion", 1)
			s.physical("name")
			return id
		},
		ForceNew: []string{"name", "namePrefix"},
	},
	"aws:autoscaling/group:Group": {
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", s.arn("autoscaling", "autoScalingGroup:"+s.hex(8)+":autoScalingGroupName/"+n))
			return n
		},
		ForceNew: []string{"name", "namePrefix"},
		Labels:   []string{"minSize", "desiredCapacity", "maxSize"},
	},
	"aws:autoscaling/policy:Policy": {
		Free: true,
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", s.arn("autoscaling", "scalingPolicy:"+s.hex(8)+":policyName/"+n))
			return n
		},
		ForceNew: []string{"name", "autoscalingGroupName"},
	},
	"aws:lb/loadBalancer:LoadBalancer": {
		Serves: true,
		Public: true,
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.physical("name")
			suffix := "app/" + n + "/" + s.hex(16)
			s.set("arn", s.arn("elasticloadbalancing", "loadbalancer/"+suffix))
			s.set("arnSuffix", suffix)
			s.set("dnsName", n+"-"+s.hex(9)+"."+r+".elb.amazonaws.com")
			s.set("zoneId", s.zone("elb"))
			return s.arn("elasticloadbalancing", "loadbalancer/"+suffix)
		},
		ForceNew: []string{"name", "namePrefix", "internal", "loadBalancerType"},
		Computed: []string{"internal", "loadBalancerType"},
		Watch:    &Watch{Name: func(r *Resource) string { return str(r.Outputs["arnSuffix"]) }, Alarms: []string{"TargetResponseTime", "HTTPCode_Target_5XX_Count"}},
	},
	"aws:lb/targetGroup:TargetGroup": {
		Free: true,
		Outputs: func(s *state) string {
			n := s.physical("name")
			suffix := "targetgroup/" + n + "/" + s.hex(16)
			s.set("arn", s.arn("elasticloadbalancing", suffix))
			s.set("arnSuffix", suffix)
			return s.arn("elasticloadbalancing", suffix)
		},
		ForceNew: []string{"name", "namePrefix", "port", "protocol", "vpcId", "targetType", "protocolVersion"},
		Computed: []string{"targetType", "protocolVersion"},
	},
	"aws:lb/listener:Listener": {
		Serves: true,
		Free:   true,
		Outputs: func(s *state) string {
			// arn:...:listener/app/<load balancer name>/<load balancer id>/<listener id>
			lb := s.in("loadBalancerArn")
			_, suffix, _ := strings.Cut(lb, ":loadbalancer/")
			a := s.arn("elasticloadbalancing", "listener/"+suffix+"/"+s.hex(16))
			s.set("arn", a)
			return a
		},
		ForceNew: []string{"loadBalancerArn"},
	},
	"aws:iam/role:Role": {
		Free: true,
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", "arn:"+s.part()+":iam::"+Account+":role/"+n)
			s.set("uniqueId", "AROA"+strings.ToUpper(s.hex(17)))
			return n
		},
		ForceNew: []string{"name", "namePrefix", "path"},
	},
	"aws:iam/instanceProfile:InstanceProfile": {
		Free: true,
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", "arn:"+s.part()+":iam::"+Account+":instance-profile/"+n)
			return n
		},
		ForceNew: []string{"name", "namePrefix", "path"},
	},

	"aws:iam/rolePolicy:RolePolicy": {
		Free: true,
		Outputs: func(s *state) string {
			return s.in("role") + ":" + s.physical("name")
		},
		ForceNew: []string{"name", "namePrefix", "role"},
	},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
		Free: true,
		Outputs: func(s *state) string {
			return s.in("role") + "-" + s.hex(8)
		},
		ForceNew: []string{"role", "policyArn"},
	},
	"random:index/randomId:RandomId": {
		Free: true,
		Outputs: func(s *state) string {
			h := s.hex(8)
			s.out["hex"], s.out["dec"] = resource.NewPropertyValue(h), resource.NewPropertyValue(h)
			s.out["b64Url"], s.out["b64Std"] = resource.NewPropertyValue(h), resource.NewPropertyValue(h)
			return h
		},
		ForceNew: []string{"byteLength", "keepers", "prefix"},
	},
	"random:index/randomPassword:RandomPassword": {
		Free: true,
		Outputs: func(s *state) string {
			s.out["result"] = resource.MakeSecret(resource.NewPropertyValue(s.password()))
			s.out["bcryptHash"] = resource.MakeSecret(resource.NewPropertyValue("$2a$10$" + s.hex(40)))
			return "none"
		},
		ForceNew: []string{"length", "special", "overrideSpecial", "upper", "lower", "numeric", "minLower", "minUpper", "minNumeric", "minSpecial", "keepers"},
	},
	"aws:secretsmanager/secret:Secret": {
		Outputs: func(s *state) string {
			n := s.physical("name")
			a := s.arn("secretsmanager", "secret:"+n+"-"+s.hex(6))
			s.set("arn", a)
			return a
		},
		ForceNew: []string{"name", "namePrefix"},
	},
	"aws:secretsmanager/secretVersion:SecretVersion": {
		Free: true, FreeWhy: "priced through its secret",
		Outputs: func(s *state) string {
			id := s.in("secretId") + "|" + s.hex(32)
			s.set("versionId", s.hex(32))
			s.set("arn", s.in("secretId"))
			return id
		},
		// secret_string and secret_binary are ForceNew: a new value is a new version
		// (terraform-provider-aws, internal/service/secretsmanager/secret_version.go).
		ForceNew: []string{"secretId", "secretString", "secretBinary"},
	},
	"aws:ssm/parameter:Parameter": {
		// Systems Manager pricing: standard parameters are free, advanced ones are not; an
		// Intelligent-Tiering parameter is standard while its value fits 4 KB and it has no
		// policies (Systems Manager User Guide, "Managing parameter tiers").
		Free: true, FreeWhy: "standard parameters are free",
		FreeWhen: func(in map[string]any) bool {
			small := len(str(in["insecureValue"]))+len(str(in["value"])) <= 4096 && in["policies"] == nil
			return in["tier"] == nil || in["tier"] == "Standard" || in["tier"] == "Intelligent-Tiering" && small
		},
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", s.arn("ssm", "parameter"+n))
			s.set("version", 1)
			return n
		},
		ForceNew: []string{"name"},
	},
	"aws:kms/key:Key": {
		Outputs: func(s *state) string {
			id := s.hex(8) + "-" + s.hex(4) + "-4" + s.hex(3) + "-8" + s.hex(3) + "-" + s.hex(12)
			s.set("arn", s.arn("kms", "key/"+id))
			s.set("keyId", id)
			return id
		},
		ForceNew: []string{"customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId"},
		Computed: []string{"customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion"},
	},

	"aws:s3/bucketV2:BucketV2": {
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.physical("bucket")
			s.set("arn", "arn:"+s.part()+":s3:::"+n)
			s.set("bucketDomainName", n+".s3.amazonaws.com")
			s.set("bucketRegionalDomainName", n+".s3."+r+".amazonaws.com")
			s.set("region", r)
			s.set("hostedZoneId", s.zone("s3"))
			return n
		},
		Stateful: true,
		ForceNew: []string{"bucket", "bucketPrefix", "objectLockEnabled"},
	},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
		Free:     true,
		Outputs:  outBucketPart,
		ForceNew: []string{"bucket"},
	},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
		Free:     true,
		Outputs:  outBucketPart,
		ForceNew: []string{"bucket"},
	},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {
		Free:     true,
		Outputs:  outBucketPart,
		ForceNew: []string{"bucket", "expectedBucketOwner"},
	},
	"aws:s3/bucketVersioningV2:BucketVersioningV2": {
		Free:     true,
		Outputs:  outBucketPart,
		ForceNew: []string{"bucket", "expectedBucketOwner"},
	},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {
		Free:     true,
		Outputs:  outBucketPart,
		ForceNew: []string{"bucket", "expectedBucketOwner"},
	},
	"aws:s3/bucketPolicy:BucketPolicy": {
		Free:     true,
		Outputs:  outBucketPart,
		ForceNew: []string{"bucket"},
	},
	"aws:s3/bucketObjectv2:BucketObjectv2": {
		Free: true, FreeWhy: "priced through its bucket",
		Outputs: func(s *state) string {
			s.set("etag", s.hex(32))
			s.set("versionId", s.hex(32))
			s.set("arn", "arn:"+s.part()+":s3:::"+s.in("bucket")+"/"+s.in("key"))
			return s.in("key")
		},
		ForceNew: []string{"bucket", "key"},
	},
	"aws:dynamodb/table:Table": {
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", s.arn("dynamodb", "table/"+n))
			return n
		},
		Stateful: true,
		ForceNew: []string{"name", "hashKey", "rangeKey", "localSecondaryIndexes"},
		Labels:   []string{"name", "billingMode"},
		Watch:    &Watch{Name: func(r *Resource) string { return str(r.Input("name")) }, Alarms: []string{"ReadThrottleEvents", "WriteThrottleEvents", "SystemErrors"}},
	},
	// identifier renames in place (ModifyDBInstance's NewDBInstanceIdentifier).
	"aws:rds/instance:Instance": {
		NamedBy: "identifier",
		Outputs: func(s *state) string {
			r := s.m.region
			// The provider's id is the DBI resource ID (db-...), not the identifier.
			n := s.physical("identifier")
			host := n + ".c" + s.hex(11) + "." + r + ".rds.amazonaws.com"
			id := "db-" + strings.ToUpper(s.hex(26))
			s.set("arn", s.arn("rds", "db:"+n))
			s.set("address", host)
			s.set("endpoint", host+":5432")
			s.set("port", 5432)
			s.set("resourceId", id)
			s.set("hostedZoneId", s.zone("rds"))
			return id
		},
		Stateful: true,
		// aws_db_instance: identifier and identifier_prefix rename in place (not ForceNew),
		// unlike aws_rds_cluster_instance's (terraform-provider-aws v5, internal/service/rds).
		ForceNew:        []string{"engine", "dbName", "username", "availabilityZone", "storageEncrypted", "kmsKeyId", "characterSetName", "timezone", "snapshotIdentifier"},
		Computed:        []string{"availabilityZone", "kmsKeyId", "dbName", "characterSetName", "timezone"},
		FollowsReferent: []string{"dbSubnetGroupName", "replicateSourceDb"},
		Labels:          []string{"identifier", "instanceClass", "availabilityZone", "multiAz"},
		Watch:           &Watch{Name: func(r *Resource) string { return str(r.Input("identifier")) }, Alarms: []string{"DatabaseConnections", "ReadLatency", "WriteLatency", "CPUUtilization"}},
	},
	"aws:rds/cluster:Cluster": {
		NamedBy: "clusterIdentifier",
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.physical("clusterIdentifier")
			s.set("arn", s.arn("rds", "cluster:"+n))
			s.set("endpoint", n+".cluster-c"+s.hex(11)+"."+r+".rds.amazonaws.com")
			s.set("readerEndpoint", n+".cluster-ro-c"+s.hex(11)+"."+r+".rds.amazonaws.com")
			s.set("port", 5432)
			s.set("clusterResourceId", "cluster-"+strings.ToUpper(s.hex(26)))
			return n
		},
		Stateful: true,
		ForceNew: []string{"clusterIdentifier", "clusterIdentifierPrefix", "engine", "engineMode", "databaseName", "masterUsername", "storageEncrypted", "kmsKeyId", "availabilityZones", "snapshotIdentifier", "dbSubnetGroupName"},
		Computed: []string{"availabilityZones", "kmsKeyId", "databaseName", "storageEncrypted", "port"},
		Labels:   []string{"clusterIdentifier", "engineVersion"},
		Watch:    &Watch{Name: func(r *Resource) string { return str(r.Input("clusterIdentifier")) }, Alarms: []string{"DatabaseConnections", "ReadLatency", "WriteLatency"}},
	},
	"aws:rds/clusterInstance:ClusterInstance": {
		NamedBy: "identifier",
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.physical("identifier")
			s.set("arn", s.arn("rds", "db:"+n))
			s.set("endpoint", n+".c"+s.hex(11)+"."+r+".rds.amazonaws.com")
			s.set("dbiResourceId", "db-"+strings.ToUpper(s.hex(26)))
			return n
		},
		ForceNew:        []string{"identifier", "identifierPrefix", "clusterIdentifier", "engine", "dbSubnetGroupName", "availabilityZone"},
		Computed:        []string{"availabilityZone", "dbSubnetGroupName"},
		FollowsReferent: []string{"dbSubnetGroupName"},
		Labels:          []string{"identifier", "instanceClass", "availabilityZone"},
	},
	"aws:rds/parameterGroup:ParameterGroup": {
		Free:     true,
		Outputs:  outRDSGroup,
		ForceNew: []string{"name", "namePrefix", "family", "description"},
	},
	"aws:rds/clusterParameterGroup:ClusterParameterGroup": {
		Free:     true,
		Outputs:  outRDSGroup,
		ForceNew: []string{"name", "namePrefix", "family", "description"},
	},
	"aws:rds/subnetGroup:SubnetGroup": {
		Free:            true,
		Outputs:         outRDSGroup,
		ForceNew:        []string{"name", "namePrefix"},
		FollowsReferent: []string{"subnetIds"},
	},
	// name renames in place (ModifyDBProxy's NewDBProxyName; terraform-provider-aws
	// internal/service/rds/proxy.go).
	"aws:rds/proxy:Proxy": {
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.physical("name")
			s.set("arn", s.arn("rds", "db-proxy:prx-"+s.hex(17)))
			s.set("endpoint", n+".proxy-c"+s.hex(11)+"."+r+".rds.amazonaws.com")
			return n
		},
		ForceNew: []string{"engineFamily", "vpcSubnetIds", "endpointNetworkType", "targetConnectionNetworkType"},
		Computed: []string{"endpointNetworkType", "targetConnectionNetworkType"},
	},
	"aws:rds/proxyEndpoint:ProxyEndpoint": {
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.physical("dbProxyEndpointName")
			s.set("arn", s.arn("rds", "db-proxy-endpoint:prx-endpoint-"+s.hex(17)))
			s.set("endpoint", n+".endpoint.proxy-c"+s.hex(11)+"."+r+".rds.amazonaws.com")
			return s.in("dbProxyName") + "/" + n
		},
		ForceNew: []string{"dbProxyName", "dbProxyEndpointName", "vpcSubnetIds", "targetRole"},
	},
	"aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": {
		Free: true,
		Outputs: func(s *state) string {
			s.set("name", "default")
			s.set("arn", s.arn("rds", "target-group:prx-tg-"+s.hex(17)))
			return s.in("dbProxyName")
		},
		ForceNew: []string{"dbProxyName"},
	},
	"aws:rds/proxyTarget:ProxyTarget": {
		Free: true,
		Outputs: func(s *state) string {
			s.set("rdsResourceId", s.in("dbClusterIdentifier"))
			s.set("targetArn", s.arn("rds", "cluster:"+s.in("dbClusterIdentifier")))
			// <proxy>/<target group>/<target type>/<cluster identifier>
			return s.in("dbProxyName") + "/default/TRACKED_CLUSTER/" + s.in("dbClusterIdentifier")
		},
		ForceNew: []string{"dbProxyName", "targetGroupName", "dbInstanceIdentifier", "dbClusterIdentifier"},
	},
	"aws:elasticache/subnetGroup:SubnetGroup": {
		Free: true,
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", s.arn("elasticache", "subnetgroup:"+n))
			return n
		},
		ForceNew:        []string{"name"},
		FollowsReferent: []string{"subnetIds"},
	},
	"aws:elasticache/replicationGroup:ReplicationGroup": {
		NamedBy: "replicationGroupId",
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.physical("replicationGroupId")
			s.set("arn", s.arn("elasticache", "replicationgroup:"+n))
			s.set("primaryEndpointAddress", "master."+n+"."+s.hex(6)+"."+short(r)+".cache.amazonaws.com")
			s.set("readerEndpointAddress", "replica."+n+"."+s.hex(6)+"."+short(r)+".cache.amazonaws.com")
			s.set("port", 6379)
			return n
		},
		Stateful:     true,
		ForceNew:     []string{"replicationGroupId", "atRestEncryptionEnabled", "kmsKeyId", "port", "subnetGroupName", "snapshotArns", "snapshotName", "dataTieringEnabled"},
		Computed:     []string{"kmsKeyId", "port", "subnetGroupName", "dataTieringEnabled", "atRestEncryptionEnabled"},
		ReplacesWhen: replicationGroupReplaced,
		Labels:       []string{"replicationGroupId", "engine", "numCacheClusters"},
		Watch:        &Watch{Name: func(r *Resource) string { return str(r.Input("replicationGroupId")) }, Alarms: []string{"DatabaseMemoryUsagePercentage", "Evictions", "EngineCPUUtilization"}},
	},
	"aws:cloudwatch/logGroup:LogGroup": {
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", s.arn("logs", "log-group:"+n))
			return n
		},
		ForceNew: []string{"name", "namePrefix", "logGroupClass"},
	},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": {
		Outputs: func(s *state) string {
			return s.physical("name")
		},
		ForceNew: []string{"name", "logGroupName"},
	},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {
		Outputs: func(s *state) string {
			n := s.physical("name")
			s.set("arn", s.arn("cloudwatch", "alarm:"+n))
			return n
		},
		ForceNew: []string{"name"},
	},
	"aws:cloudwatch/dashboard:Dashboard": {
		Outputs: func(s *state) string {
			n := s.physical("dashboardName")
			s.set("dashboardArn", "arn:"+s.part()+":cloudwatch::"+Account+":dashboard/"+n)
			return n
		},
		ForceNew: []string{"dashboardName"},
	},
	"aws:sns/topic:Topic": {
		Free: true, FreeWhy: "alarm notifications stay in SNS's free tier",
		Outputs: func(s *state) string {
			n := s.physical("name")
			a := s.arn("sns", n)
			s.set("arn", a)
			return a
		},
		ForceNew: []string{"name", "namePrefix", "fifoTopic"},
	},
	"aws:sns/topicSubscription:TopicSubscription": {
		Free:     true,
		Outputs:  outTopicPart,
		ForceNew: []string{"topic", "protocol", "endpoint"},
	},

	"aws:lambda/function:Function": {
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.physical("name")
			a := s.arn("lambda", "function:"+n)
			s.set("arn", a)
			s.set("qualifiedArn", a+":$LATEST")
			s.set("invokeArn", "arn:"+s.part()+":apigateway:"+r+":lambda:path/2015-03-31/functions/"+a+"/invocations")
			s.set("version", "$LATEST")
			return n
		},
		ForceNew: []string{"name", "packageType"},
		Labels:   []string{"name", "runtime", "memorySize", "timeout"},
		Watch: &Watch{Name: func(r *Resource) string { return str(r.Input("name")) }, Alarms: []string{"Throttles", "Errors", "Duration"},
			Skip: invokedByDeploy},
		// A function the deploy alone invokes (tagged contract.DeployTag) runs once a release:
		// Lambda's free tier aside, a request and a few seconds.
		Free: true, FreeWhy: "functions the deploy alone invokes cost a request a release",
		FreeWhen: func(in map[string]any) bool { return invokedByDeploy(&Resource{Inputs: in}) },
	},
	"aws:lambda/invocation:Invocation": {
		// terraform-provider-aws internal/service/lambda/invocation.go: function_name,
		// qualifier and triggers are ForceNew, and so is input under the default
		// CREATE_ONLY lifecycle scope (customizeDiffInputChangeWithCreateOnlyScope); a function
		// error fails the create.
		Free: true, FreeWhy: "one invocation a release",
		Outputs: func(s *state) string {
			s.set("result", `{"schemaVersion":2}`)
			return s.in("functionName") + "_$LATEST_" + s.hex(32)
		},
		ForceNew: []string{"functionName", "qualifier", "triggers", "input"},
	},
	"aws:lambda/permission:Permission": {
		Free: true,
		Outputs: func(s *state) string {
			return s.physical("statementId")
		},
		ForceNew: []string{"action", "function", "principal", "sourceArn", "statementId", "statementIdPrefix", "qualifier"},
	},
	"aws:apigatewayv2/api:Api": {
		Serves: true,
		Public: true,
		Outputs: func(s *state) string {
			r := s.m.region
			id := s.hex(10)
			s.set("apiEndpoint", "https://"+id+".execute-api."+r+".amazonaws.com")
			s.set("executionArn", s.arn("execute-api", id))
			s.set("arn", "arn:"+s.part()+":apigateway:"+r+"::/apis/"+id)
			return id
		},
		ForceNew: []string{"protocolType"},
		Watch:    &Watch{Name: func(r *Resource) string { return r.ID }, Alarms: []string{"Latency", "5xx"}},
	},
	"aws:apigatewayv2/stage:Stage": {
		Serves: true,
		Free:   true,
		Outputs: func(s *state) string {
			r := s.m.region
			s.set("invokeUrl", "https://"+s.in("apiId")+".execute-api."+r+".amazonaws.com/")
			s.set("arn", "arn:"+s.part()+":apigateway:"+r+"::/apis/"+s.in("apiId")+"/stages/"+s.in("name"))
			return s.in("name")
		},
		ForceNew: []string{"apiId", "name"},
	},
	"aws:apigatewayv2/integration:Integration": {
		Free:     true,
		Outputs:  outAPIPart,
		ForceNew: []string{"apiId", "integrationType"},
	},
	"aws:apigatewayv2/route:Route": {
		Free:     true,
		Outputs:  outAPIPart,
		ForceNew: []string{"apiId"},
	},
	"aws:apigatewayv2/apiMapping:ApiMapping": {
		Serves:  true,
		Free:    true,
		Outputs: outAPIPart,
		// api_id and domain_name are ForceNew (terraform-provider-aws,
		// internal/service/apigatewayv2/api_mapping.go); stage and api_mapping_key update.
		ForceNew: []string{"apiId", "domainName"},
	},
	"aws:apigatewayv2/domainName:DomainName": {
		Serves: true,
		Public: true,
		Free:   true,
		Outputs: func(s *state) string {
			r := s.m.region
			n := s.in("domainName")
			s.set("arn", "arn:"+s.part()+":apigateway:"+r+"::/domainnames/"+n)
			s.out["domainNameConfiguration"] = resource.NewPropertyValue(map[string]any{
				"certificateArn": s.arn("acm", "certificate/00000000-0000-4000-8000-"+s.hex(12)),
				"endpointType":   "REGIONAL", "securityPolicy": "TLS_1_2",
				"targetDomainName": "d-" + s.hex(10) + ".execute-api." + r + ".amazonaws.com",
				"hostedZoneId":     s.zone("apigateway"),
			})
			return n
		},
		ForceNew: []string{"domainName"},
	},
	"aws:acm/certificate:Certificate": {
		Free: true, FreeWhy: "public certificates are free",
		Outputs: func(s *state) string {
			id := s.arn("acm", "certificate/"+s.hex(8)+"-"+s.hex(4)+"-4"+s.hex(3)+"-8"+s.hex(3)+"-"+s.hex(12))
			s.set("arn", id)
			var opts []any
			domains := []string{s.in("domainName")}
			if sans, ok := s.inputs["subjectAlternativeNames"]; ok && sans.IsArray() {
				for _, v := range sans.ArrayValue() {
					if v.IsString() {
						domains = append(domains, v.StringValue())
					}
				}
			}
			for _, d := range domains {
				h := sha256.Sum256([]byte(s.urn + d))
				tag := hex.EncodeToString(h[:16])
				opts = append(opts, map[string]any{
					"domainName": d, "resourceRecordName": "_" + tag + "." + d + ".", "resourceRecordType": "CNAME",
					"resourceRecordValue": "_" + tag + ".mhbtsbpdnt.acm-validations.aws.",
				})
			}
			s.out["domainValidationOptions"] = resource.NewPropertyValue(opts)
			return id
		},
		ForceNew: []string{"domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm", "certificateAuthorityArn"},
	},
	"aws:acm/certificateValidation:CertificateValidation": {
		Free: true,
		Outputs: func(s *state) string {
			return s.in("certificateArn")
		},
		ForceNew: []string{"certificateArn", "validationRecordFqdns"},
	},
	"cloudflare:index/record:Record": {
		Serves: true,
		Public: true,
		Free:   true, FreeWhy: "Cloudflare free plan",
		Outputs: func(s *state) string {
			s.set("hostname", s.in("name"))
			return s.hex(32)
		},
		// zone_id, name and type are ForceNew; the content, TTL and proxied update in place
		// (terraform-provider-cloudflare v4, internal/sdkv2provider/schema_cloudflare_record.go).
		ForceNew: []string{"zoneId", "name", "type"},
		Labels:   []string{"name", "proxied"},
	},
	"cloudflare:index/ruleset:Ruleset": {
		Free: true, FreeWhy: "Cloudflare free plan",
		Outputs: func(s *state) string {
			// A zone has one entry point per phase: a zone ruleset that exists is that one.
			if rs := entryPoint(s.m.zones, s.in("zoneId"), s.in("phase")); rs != nil && s.in("kind") == "zone" {
				return fmt.Sprint(rs["id"])
			}
			return s.hex(32)
		},
		ForceNew: []string{"zoneId", "accountId", "kind", "phase", "name"},
	},
}

// outDefaultSecurityGroupEtc fabricates the outputs of aws:ec2/defaultSecurityGroup:DefaultSecurityGroup, aws:ec2/securityGroup:SecurityGroup.
func outDefaultSecurityGroupEtc(s *state) string {
	id := "sg-" + s.hex(17)
	s.set("arn", s.arn("ec2", "security-group/"+id))
	s.physical("name")
	return id
}

// outSecurityGroupRule fabricates the outputs of aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule, aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule.
func outSecurityGroupRule(s *state) string {
	id := "sgr-" + s.hex(17)
	s.set("arn", s.arn("ec2", "security-group-rule/"+id))
	return id
}

// outBucketPart fabricates the outputs of aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock, aws:s3/bucketOwnershipControls:BucketOwnershipControls, aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2, aws:s3/bucketVersioningV2:BucketVersioningV2, aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2, aws:s3/bucketPolicy:BucketPolicy.
func outBucketPart(s *state) string {
	return s.in("bucket")
}

// outRDSGroup fabricates the outputs of aws:rds/parameterGroup:ParameterGroup, aws:rds/clusterParameterGroup:ClusterParameterGroup, aws:rds/subnetGroup:SubnetGroup.
func outRDSGroup(s *state) string {
	n := s.physical("name")
	kind := map[string]string{"aws:rds/parameterGroup:ParameterGroup": "pg", "aws:rds/clusterParameterGroup:ClusterParameterGroup": "cluster-pg", "aws:rds/subnetGroup:SubnetGroup": "subgrp"}[s.typ]
	s.set("arn", s.arn("rds", kind+":"+n))
	return n
}

// outTopicPart fabricates the outputs of aws:sns/topicSubscription:TopicSubscription.
func outTopicPart(s *state) string {
	a := s.in("topic") + ":" + s.hex(8)
	s.set("arn", a)
	return a
}

// outAPIPart fabricates the outputs of aws:apigatewayv2/integration:Integration, aws:apigatewayv2/route:Route, aws:apigatewayv2/apiMapping:ApiMapping.
func outAPIPart(s *state) string {
	return s.hex(7)
}
