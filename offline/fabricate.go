package offline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Account is the AWS account the offline engine pretends to deploy into.
const Account = "123456789012"

// state builds a resource's offline state: its inputs plus the outputs AWS or Cloudflare
// would compute.
type state struct {
	m      *mocks
	urn    string
	typ    string
	name   string
	inputs resource.PropertyMap
	out    resource.PropertyMap
}

func (s *state) hex(n int) string {
	h := sha256.Sum256([]byte(s.urn))
	return hex.EncodeToString(h[:])[:n]
}

func (s *state) in(key string) string {
	if v, ok := s.inputs[resource.PropertyKey(key)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func (s *state) set(key string, v any) {
	s.out[resource.PropertyKey(key)] = resource.NewPropertyValue(v)
}

// physical returns the resource's physical name: the input that names it, or an auto-name.
func (s *state) physical(keys ...string) string {
	for _, k := range keys {
		if v := s.in(k); v != "" {
			s.set(k, v)
			return v
		}
	}
	n := strings.ToLower(s.name) + "-" + s.hex(7)
	if len(keys) > 0 {
		s.set(keys[0], n)
	}
	return n
}

func (s *state) part() string { return PartitionOf(s.m.region) }

func (s *state) arn(service, res string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", PartitionOf(s.m.region), service, s.m.region, Account, res)
}

// fabricate returns the id and state of a custom resource.
func fabricate(m *mocks, urn, typ, name string, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	s := &state{m: m, urn: urn, typ: typ, name: name, inputs: inputs, out: inputs.Copy()}
	id := s.fill()
	if id == "" {
		id = s.hex(16)
	}
	s.set("id", id)
	return id, s.out
}

// fill sets the type's outputs and returns its id.
func (s *state) fill() string {
	r := s.m.region
	switch s.typ {
	// Network.
	case "aws:ec2/vpc:Vpc":
		id := "vpc-" + s.hex(17)
		s.set("arn", s.arn("ec2", "vpc/"+id))
		s.set("defaultSecurityGroupId", "sg-"+s.hex(17))
		s.set("mainRouteTableId", "rtb-"+s.hex(17))
		return id
	case "aws:ec2/subnet:Subnet":
		id := "subnet-" + s.hex(17)
		s.set("arn", s.arn("ec2", "subnet/"+id))
		return id
	case "aws:ec2/internetGateway:InternetGateway":
		return "igw-" + s.hex(17)
	case "aws:ec2/eip:Eip":
		id := "eipalloc-" + s.hex(17)
		ip := fmt.Sprintf("54.%d.%d.%d", s.byte(0), s.byte(1), s.byte(2))
		s.set("publicIp", ip)
		s.set("allocationId", id)
		s.set("publicDns", "ec2-"+strings.ReplaceAll(ip, ".", "-")+"."+compute(r))
		return id
	case "aws:ec2/natGateway:NatGateway":
		return "nat-" + s.hex(17)
	case "aws:ec2/routeTable:RouteTable":
		return "rtb-" + s.hex(17)
	case "aws:ec2/route:Route":
		return "r-" + s.in("routeTableId") + "1080289494"
	case "aws:ec2/routeTableAssociation:RouteTableAssociation":
		return "rtbassoc-" + s.hex(17)
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		id := "vpce-" + s.hex(17)
		s.set("prefixListId", "pl-"+s.hex(8))
		return id
	case "aws:ec2/managedPrefixList:ManagedPrefixList":
		id := "pl-" + s.hex(17)
		s.set("arn", s.arn("ec2", "prefix-list/"+id))
		s.set("version", 1)
		return id
	case "aws:ec2/flowLog:FlowLog":
		return "fl-" + s.hex(17)
	case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "aws:ec2/securityGroup:SecurityGroup":
		id := "sg-" + s.hex(17)
		s.set("arn", s.arn("ec2", "security-group/"+id))
		s.physical("name")
		return id
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		id := "sgr-" + s.hex(17)
		s.set("arn", s.arn("ec2", "security-group-rule/"+id))
		return id

	// Compute.
	case "aws:ec2/instance:Instance":
		id := "i-" + s.hex(17)
		s.set("arn", s.arn("ec2", "instance/"+id))
		s.set("privateIp", s.addressIn(s.in("subnetId")))
		s.set("publicIp", fmt.Sprintf("3.%d.%d.%d", s.byte(0), s.byte(1), s.byte(2)))
		s.set("publicDns", "ec2-3-"+s.hex(4)+"."+compute(r))
		s.set("primaryNetworkInterfaceId", "eni-"+s.hex(17))
		return id
	case "aws:ebs/volume:Volume":
		id := "vol-" + s.hex(17)
		s.set("arn", s.arn("ec2", "volume/"+id))
		return id
	case "aws:ec2/volumeAttachment:VolumeAttachment":
		return "vai-" + s.hex(10)
	case "aws:ec2/launchTemplate:LaunchTemplate":
		id := "lt-" + s.hex(17)
		s.set("arn", s.arn("ec2", "launch-template/"+id))
		s.set("latestVersion", 1)
		s.set("defaultVersion", 1)
		s.physical("name")
		return id
	case "aws:autoscaling/group:Group":
		n := s.physical("name")
		s.set("arn", s.arn("autoscaling", "autoScalingGroup:"+s.hex(8)+":autoScalingGroupName/"+n))
		return n
	case "aws:autoscaling/policy:Policy":
		n := s.physical("name")
		s.set("arn", s.arn("autoscaling", "scalingPolicy:"+s.hex(8)+":policyName/"+n))
		return n

	// Load balancing.
	case "aws:lb/loadBalancer:LoadBalancer":
		n := s.physical("name")
		suffix := "app/" + n + "/" + s.hex(16)
		s.set("arn", s.arn("elasticloadbalancing", "loadbalancer/"+suffix))
		s.set("arnSuffix", suffix)
		s.set("dnsName", n+"-"+s.hex(9)+"."+r+".elb.amazonaws.com")
		s.set("zoneId", s.zone("elb"))
		return s.arn("elasticloadbalancing", "loadbalancer/"+suffix)
	case "aws:lb/targetGroup:TargetGroup":
		n := s.physical("name")
		suffix := "targetgroup/" + n + "/" + s.hex(16)
		s.set("arn", s.arn("elasticloadbalancing", suffix))
		s.set("arnSuffix", suffix)
		return s.arn("elasticloadbalancing", suffix)
	case "aws:lb/listener:Listener":
		// arn:...:listener/app/<load balancer name>/<load balancer id>/<listener id>
		lb := s.in("loadBalancerArn")
		_, suffix, _ := strings.Cut(lb, ":loadbalancer/")
		a := s.arn("elasticloadbalancing", "listener/"+suffix+"/"+s.hex(16))
		s.set("arn", a)
		return a

	// Identity.
	case "aws:iam/role:Role":
		n := s.physical("name")
		s.set("arn", "arn:"+s.part()+":iam::"+Account+":role/"+n)
		s.set("uniqueId", "AROA"+strings.ToUpper(s.hex(17)))
		return n
	case "aws:iam/instanceProfile:InstanceProfile":
		n := s.physical("name")
		s.set("arn", "arn:"+s.part()+":iam::"+Account+":instance-profile/"+n)
		return n
	case "aws:iam/policy:Policy":
		n := s.physical("name")
		a := "arn:" + s.part() + ":iam::" + Account + ":policy/" + n
		s.set("arn", a)
		return a
	case "aws:iam/rolePolicy:RolePolicy":
		return s.in("role") + ":" + s.physical("name")
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		return s.in("role") + "-" + s.hex(8)

	// Secrets and parameters.
	case "random:index/randomPassword:RandomPassword":
		s.out["result"] = resource.MakeSecret(resource.NewPropertyValue(s.password()))
		s.out["bcryptHash"] = resource.MakeSecret(resource.NewPropertyValue("$2a$10$" + s.hex(40)))
		return "none"
	case "aws:secretsmanager/secret:Secret":
		n := s.physical("name")
		a := s.arn("secretsmanager", "secret:"+n+"-"+s.hex(6))
		s.set("arn", a)
		return a
	case "aws:secretsmanager/secretVersion:SecretVersion":
		id := s.in("secretId") + "|" + s.hex(32)
		s.set("versionId", s.hex(32))
		s.set("arn", s.in("secretId"))
		return id
	case "aws:ssm/parameter:Parameter":
		n := s.physical("name")
		s.set("arn", s.arn("ssm", "parameter"+n))
		s.set("version", 1)
		return n
	case "aws:kms/key:Key":
		id := s.hex(8) + "-" + s.hex(4) + "-4" + s.hex(3) + "-8" + s.hex(3) + "-" + s.hex(12)
		s.set("arn", s.arn("kms", "key/"+id))
		s.set("keyId", id)
		return id
	case "aws:kms/alias:Alias":
		n := s.physical("name")
		s.set("arn", s.arn("kms", n))
		return n

	// Storage.
	case "aws:s3/bucketV2:BucketV2":
		n := s.physical("bucket")
		s.set("arn", "arn:"+s.part()+":s3:::"+n)
		s.set("bucketDomainName", n+".s3.amazonaws.com")
		s.set("bucketRegionalDomainName", n+".s3."+r+".amazonaws.com")
		s.set("region", r)
		s.set("hostedZoneId", s.zone("s3"))
		return n
	case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
		"aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
		"aws:s3/bucketPolicy:BucketPolicy":
		return s.in("bucket")
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		s.set("etag", s.hex(32))
		s.set("versionId", s.hex(32))
		s.set("arn", "arn:"+s.part()+":s3:::"+s.in("bucket")+"/"+s.in("key"))
		return s.in("key")
	case "aws:dynamodb/table:Table":
		n := s.physical("name")
		s.set("arn", s.arn("dynamodb", "table/"+n))
		return n

	// Databases.
	case "aws:rds/instance:Instance":
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
	case "aws:rds/cluster:Cluster":
		n := s.physical("clusterIdentifier")
		s.set("arn", s.arn("rds", "cluster:"+n))
		s.set("endpoint", n+".cluster-c"+s.hex(11)+"."+r+".rds.amazonaws.com")
		s.set("readerEndpoint", n+".cluster-ro-c"+s.hex(11)+"."+r+".rds.amazonaws.com")
		s.set("port", 5432)
		s.set("clusterResourceId", "cluster-"+strings.ToUpper(s.hex(26)))
		return n
	case "aws:rds/clusterInstance:ClusterInstance":
		n := s.physical("identifier")
		s.set("arn", s.arn("rds", "db:"+n))
		s.set("endpoint", n+".c"+s.hex(11)+"."+r+".rds.amazonaws.com")
		s.set("dbiResourceId", "db-"+strings.ToUpper(s.hex(26)))
		return n
	case "aws:rds/parameterGroup:ParameterGroup", "aws:rds/clusterParameterGroup:ClusterParameterGroup", "aws:rds/subnetGroup:SubnetGroup":
		n := s.physical("name")
		kind := map[string]string{"aws:rds/parameterGroup:ParameterGroup": "pg", "aws:rds/clusterParameterGroup:ClusterParameterGroup": "cluster-pg", "aws:rds/subnetGroup:SubnetGroup": "subgrp"}[s.typ]
		s.set("arn", s.arn("rds", kind+":"+n))
		return n
	case "aws:rds/proxy:Proxy":
		n := s.physical("name")
		s.set("arn", s.arn("rds", "db-proxy:prx-"+s.hex(17)))
		s.set("endpoint", n+".proxy-c"+s.hex(11)+"."+r+".rds.amazonaws.com")
		return n
	case "aws:rds/proxyEndpoint:ProxyEndpoint":
		n := s.physical("dbProxyEndpointName")
		s.set("arn", s.arn("rds", "db-proxy-endpoint:prx-endpoint-"+s.hex(17)))
		s.set("endpoint", n+".endpoint.proxy-c"+s.hex(11)+"."+r+".rds.amazonaws.com")
		return s.in("dbProxyName") + "/" + n
	case "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup":
		s.set("name", "default")
		s.set("arn", s.arn("rds", "target-group:prx-tg-"+s.hex(17)))
		return s.in("dbProxyName")
	case "aws:rds/proxyTarget:ProxyTarget":
		s.set("rdsResourceId", s.in("dbClusterIdentifier"))
		s.set("targetArn", s.arn("rds", "cluster:"+s.in("dbClusterIdentifier")))
		// <proxy>/<target group>/<target type>/<cluster identifier>
		return s.in("dbProxyName") + "/default/TRACKED_CLUSTER/" + s.in("dbClusterIdentifier")

	// Cache.
	case "aws:elasticache/subnetGroup:SubnetGroup":
		n := s.physical("name")
		s.set("arn", s.arn("elasticache", "subnetgroup:"+n))
		return n
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		n := s.physical("replicationGroupId")
		s.set("arn", s.arn("elasticache", "replicationgroup:"+n))
		s.set("primaryEndpointAddress", "master."+n+"."+s.hex(6)+"."+short(r)+".cache.amazonaws.com")
		s.set("readerEndpointAddress", "replica."+n+"."+s.hex(6)+"."+short(r)+".cache.amazonaws.com")
		s.set("port", 6379)
		return n

	// Monitoring.
	case "aws:cloudwatch/logGroup:LogGroup":
		n := s.physical("name")
		s.set("arn", s.arn("logs", "log-group:"+n))
		return n
	case "aws:cloudwatch/logMetricFilter:LogMetricFilter":
		return s.physical("name")
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		n := s.physical("name")
		s.set("arn", s.arn("cloudwatch", "alarm:"+n))
		return n
	case "aws:cloudwatch/dashboard:Dashboard":
		n := s.physical("dashboardName")
		s.set("dashboardArn", "arn:"+s.part()+":cloudwatch::"+Account+":dashboard/"+n)
		return n
	case "aws:sns/topic:Topic":
		n := s.physical("name")
		a := s.arn("sns", n)
		s.set("arn", a)
		return a
	case "aws:sns/topicSubscription:TopicSubscription", "aws:sns/topicPolicy:TopicPolicy":
		a := s.in("topic") + ":" + s.hex(8)
		s.set("arn", a)
		return a

	// Serverless.
	case "aws:lambda/function:Function":
		n := s.physical("name")
		a := s.arn("lambda", "function:"+n)
		s.set("arn", a)
		s.set("qualifiedArn", a+":$LATEST")
		s.set("invokeArn", "arn:"+s.part()+":apigateway:"+r+":lambda:path/2015-03-31/functions/"+a+"/invocations")
		s.set("version", "$LATEST")
		return n
	case "aws:lambda/permission:Permission":
		return s.physical("statementId")
	case "aws:apigatewayv2/api:Api":
		id := s.hex(10)
		s.set("apiEndpoint", "https://"+id+".execute-api."+r+".amazonaws.com")
		s.set("executionArn", s.arn("execute-api", id))
		s.set("arn", "arn:"+s.part()+":apigateway:"+r+"::/apis/"+id)
		return id
	case "aws:apigatewayv2/stage:Stage":
		s.set("invokeUrl", "https://"+s.in("apiId")+".execute-api."+r+".amazonaws.com/")
		s.set("arn", "arn:"+s.part()+":apigateway:"+r+"::/apis/"+s.in("apiId")+"/stages/"+s.in("name"))
		return s.in("name")
	case "aws:apigatewayv2/integration:Integration", "aws:apigatewayv2/route:Route", "aws:apigatewayv2/apiMapping:ApiMapping":
		return s.hex(7)
	case "aws:apigatewayv2/domainName:DomainName":
		n := s.in("domainName")
		s.set("arn", "arn:"+s.part()+":apigateway:"+r+"::/domainnames/"+n)
		s.out["domainNameConfiguration"] = resource.NewPropertyValue(map[string]any{
			"certificateArn": s.arn("acm", "certificate/00000000-0000-4000-8000-"+s.hex(12)),
			"endpointType":   "REGIONAL", "securityPolicy": "TLS_1_2",
			"targetDomainName": "d-" + s.hex(10) + ".execute-api." + r + ".amazonaws.com",
			"hostedZoneId":     s.zone("apigateway"),
		})
		return n

	// Certificates.
	case "aws:acm/certificate:Certificate":
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
	case "aws:acm/certificateValidation:CertificateValidation":
		return s.in("certificateArn")

	// Cloudflare.
	case "cloudflare:index/record:Record":
		s.set("hostname", s.in("name"))
		return s.hex(32)
	case "cloudflare:index/ruleset:Ruleset":
		return s.hex(32)
	}
	return ""
}

func (s *state) byte(i int) int {
	h := sha256.Sum256([]byte(s.urn))
	return int(h[i])
}

func compute(region string) string {
	if region == "us-east-1" {
		return "compute-1.amazonaws.com"
	}
	return region + ".compute.amazonaws.com"
}

// short is a region's short form in ElastiCache endpoints: us-east-1 is use1, ap-southeast-1
// apse1.
func short(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	dir := map[string]string{"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
		"southeast": "se", "northeast": "ne", "northwest": "nw", "southwest": "sw"}[parts[1]]
	return parts[0] + dir + parts[2]
}

// zone is a hosted zone ID of a service in the planned region, in the real shape.
func (s *state) zone(service string) string {
	h := sha256.Sum256([]byte(service + s.m.region))
	return "Z" + strings.ToUpper(hex.EncodeToString(h[:])[:13])
}

// addressIn is an address inside the subnet whose id is given (its CIDR block), past the five
// addresses AWS reserves.
func (s *state) addressIn(subnetID string) string {
	s.m.mu.Lock()
	var cidr string
	for _, r := range s.m.order {
		if r.ID == subnetID && r.Type == "aws:ec2/subnet:Subnet" {
			cidr, _ = r.Inputs["cidrBlock"].(string)
		}
	}
	s.m.mu.Unlock()
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return fmt.Sprintf("10.0.%d.%d", s.byte(0)%32, s.byte(1)%250+4)
	}
	size := 1 << (32 - p.Bits())
	off := 5 + (s.byte(0)<<8|s.byte(1))%(size-6)
	b := p.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n += uint32(off)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// password is a RandomPassword's result as the provider makes it: its length, from the
// character sets it allows, with at least the minimums of each.
func (s *state) password() string {
	num := func(k string, def int) int {
		if v, ok := s.inputs[resource.PropertyKey(k)]; ok && v.IsNumber() {
			return int(v.NumberValue())
		}
		return def
	}
	on := func(k string) bool {
		v, ok := s.inputs[resource.PropertyKey(k)]
		return !ok || !v.IsBool() || v.BoolValue()
	}
	special := "!@#$%&*()-_=+[]{}<>:?"
	if v, ok := s.inputs["overrideSpecial"]; ok && v.IsString() {
		special = v.StringValue()
	}
	sets := []struct {
		chars string
		min   int
		use   bool
	}{
		{"abcdefghijklmnopqrstuvwxyz", num("minLower", 0), on("lower")},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", num("minUpper", 0), on("upper")},
		{"0123456789", num("minNumeric", 0), on("numeric")},
		{special, num("minSpecial", 0), on("special") && special != ""},
	}
	length := num("length", 16)
	seed := sha256.Sum256([]byte(s.urn + "password"))
	pick := func(i int, chars string) byte { return chars[int(seed[i%32]^byte(i))%len(chars)] }
	var out []byte
	all := ""
	for _, set := range sets {
		if !set.use {
			continue
		}
		all += set.chars
		for j := 0; j < set.min; j++ {
			out = append(out, pick(len(out), set.chars))
		}
	}
	for len(out) < length && all != "" {
		out = append(out, pick(len(out), all))
	}
	return string(out[:min(len(out), max(length, len(out)))])
}
