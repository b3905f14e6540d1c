package preview

import (
	"fmt"
	"strings"
)

// ForceNew lists, per resource type the program uses, the inputs AWS or Cloudflare cannot
// change in place (the providers' ForceNew arguments): changing one replaces the resource.
// A nested input is written parent.child. A type with no entry is not used by the program; a
// test holds every type the program registers to an entry here.
var ForceNew = map[string][]string{
	// Network.
	"aws:ec2/vpc:Vpc":                                           {"cidrBlock", "ipv4IpamPoolId"},
	"aws:ec2/subnet:Subnet":                                     {"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"},
	"aws:ec2/internetGateway:InternetGateway":                   {},
	"aws:ec2/eip:Eip":                                           {"domain", "address", "publicIpv4Pool", "networkBorderGroup"},
	"aws:ec2/natGateway:NatGateway":                             {"allocationId", "subnetId", "connectivityType", "privateIp"},
	"aws:ec2/routeTable:RouteTable":                             {"vpcId"},
	"aws:ec2/routeTableAssociation:RouteTableAssociation":       {"subnetId", "gatewayId"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           {"vpcId", "serviceName", "vpcEndpointType"},
	"aws:ec2/managedPrefixList:ManagedPrefixList":               {"addressFamily"},
	"aws:ec2/flowLog:FlowLog":                                   {"vpcId", "trafficType", "logDestination", "logDestinationType", "iamRoleArn", "maxAggregationInterval", "logFormat"},
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":         {"vpcId"},
	"aws:ec2/securityGroup:SecurityGroup":                       {"name", "namePrefix", "vpcId", "description"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"securityGroupId"},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   {"securityGroupId"},

	// Compute.
	"aws:ec2/instance:Instance":                 {"ami", "availabilityZone", "subnetId", "privateIp", "keyName", "associatePublicIpAddress", "placementGroup", "ebsOptimized", "rootBlockDevice.encrypted", "rootBlockDevice.kmsKeyId"},
	"aws:ebs/volume:Volume":                     {"availabilityZone", "encrypted", "kmsKeyId", "snapshotId"},
	"aws:ec2/volumeAttachment:VolumeAttachment": {"deviceName", "instanceId", "volumeId"},
	"aws:ec2/launchTemplate:LaunchTemplate":     {"name", "namePrefix"},
	"aws:autoscaling/group:Group":               {"name", "namePrefix"},
	"aws:autoscaling/policy:Policy":             {"name", "autoscalingGroupName"},
	"aws:lb/loadBalancer:LoadBalancer":          {"name", "namePrefix", "internal", "loadBalancerType"},
	"aws:lb/targetGroup:TargetGroup":            {"name", "namePrefix", "port", "protocol", "vpcId", "targetType", "protocolVersion"},
	"aws:lb/listener:Listener":                  {"loadBalancerArn"},

	// Identity, secrets, parameters.
	"aws:iam/role:Role":                                 {"name", "namePrefix", "path"},
	"aws:iam/instanceProfile:InstanceProfile":           {"name", "namePrefix", "path"},
	"aws:iam/rolePolicy:RolePolicy":                     {"name", "namePrefix", "role"},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {"role", "policyArn"},
	"random:index/randomPassword:RandomPassword":        {"length", "special", "overrideSpecial", "upper", "lower", "numeric", "minLower", "minUpper", "minNumeric", "minSpecial", "keepers"},
	"aws:secretsmanager/secret:Secret":                  {"name", "namePrefix"},
	"aws:secretsmanager/secretVersion:SecretVersion":    {"secretId"},
	"aws:ssm/parameter:Parameter":                       {"name"},
	"aws:kms/key:Key":                                   {"customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId"},

	// Storage.
	"aws:s3/bucketV2:BucketV2":                                                                   {"bucket", "bucketPrefix", "objectLockEnabled"},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     {"bucket"},
	"aws:s3/bucketObjectv2:BucketObjectv2":                                                       {"bucket", "key"},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     {"bucket"},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {"bucket", "expectedBucketOwner"},
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               {"bucket", "expectedBucketOwner"},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       {"bucket", "expectedBucketOwner"},
	"aws:s3/bucketPolicy:BucketPolicy":                                                           {"bucket"},
	"aws:dynamodb/table:Table":                                                                   {"name", "hashKey", "rangeKey", "localSecondaryIndexes"},

	// Databases.
	// identifier renames in place (ModifyDBInstance's NewDBInstanceIdentifier).
	"aws:rds/instance:Instance":                           {"identifierPrefix", "engine", "dbName", "username", "availabilityZone", "storageEncrypted", "kmsKeyId", "characterSetName", "timezone", "snapshotIdentifier"},
	"aws:rds/cluster:Cluster":                             {"clusterIdentifier", "clusterIdentifierPrefix", "engine", "engineMode", "databaseName", "masterUsername", "storageEncrypted", "kmsKeyId", "availabilityZones", "snapshotIdentifier", "dbSubnetGroupName"},
	"aws:rds/clusterInstance:ClusterInstance":             {"identifier", "identifierPrefix", "clusterIdentifier", "engine", "dbSubnetGroupName", "availabilityZone"},
	"aws:rds/parameterGroup:ParameterGroup":               {"name", "namePrefix", "family", "description"},
	"aws:rds/clusterParameterGroup:ClusterParameterGroup": {"name", "namePrefix", "family", "description"},
	"aws:rds/subnetGroup:SubnetGroup":                     {"name", "namePrefix"},
	// name renames in place (ModifyDBProxy's NewDBProxyName; terraform-provider-aws
	// internal/service/rds/proxy.go).
	"aws:rds/proxy:Proxy":                                     {"engineFamily", "vpcSubnetIds", "endpointNetworkType", "targetConnectionNetworkType"},
	"aws:rds/proxyEndpoint:ProxyEndpoint":                     {"dbProxyName", "dbProxyEndpointName", "vpcSubnetIds", "targetRole"},
	"aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": {"dbProxyName"},
	"aws:rds/proxyTarget:ProxyTarget":                         {"dbProxyName", "targetGroupName", "dbInstanceIdentifier", "dbClusterIdentifier"},

	// Cache.
	"aws:elasticache/subnetGroup:SubnetGroup":           {"name"},
	"aws:elasticache/replicationGroup:ReplicationGroup": {"replicationGroupId", "atRestEncryptionEnabled", "kmsKeyId", "port", "subnetGroupName", "snapshotArns", "snapshotName", "dataTieringEnabled"},

	// Monitoring.
	"aws:cloudwatch/logGroup:LogGroup":               {"name", "namePrefix", "logGroupClass"},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": {"name", "logGroupName"},
	"aws:cloudwatch/metricAlarm:MetricAlarm":         {"name"},
	"aws:cloudwatch/dashboard:Dashboard":             {"dashboardName"},
	"aws:sns/topic:Topic":                            {"name", "namePrefix", "fifoTopic"},
	"aws:sns/topicSubscription:TopicSubscription":    {"topic", "protocol", "endpoint"},

	// Serverless.
	"aws:lambda/function:Function":             {"name", "packageType"},
	"aws:lambda/permission:Permission":         {"action", "function", "principal", "sourceArn", "statementId", "statementIdPrefix", "qualifier"},
	"aws:apigatewayv2/api:Api":                 {"protocolType"},
	"aws:apigatewayv2/stage:Stage":             {"apiId", "name"},
	"aws:apigatewayv2/integration:Integration": {"apiId", "integrationType"},
	"aws:apigatewayv2/route:Route":             {"apiId"},
	"aws:apigatewayv2/domainName:DomainName":   {"domainName"},
	"aws:apigatewayv2/apiMapping:ApiMapping":   {"domainName"},

	// Certificates and Cloudflare.
	"aws:acm/certificate:Certificate":                     {"domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm", "certificateAuthorityArn"},
	"aws:acm/certificateValidation:CertificateValidation": {"certificateArn", "validationRecordFqdns"},
	"cloudflare:index/record:Record":                      {"zoneId"},
	"cloudflare:index/ruleset:Ruleset":                    {"zoneId", "accountId", "kind", "phase", "name"},
}

// Computed lists, per type, the ForceNew inputs the provider computes when the program leaves
// them unset (Optional and Computed in its schema): a program that stops setting one keeps the
// value the resource has. Any other ForceNew input the program stops setting replaces.
var Computed = map[string][]string{
	"aws:rds/instance:Instance":                         {"availabilityZone", "kmsKeyId", "dbName", "characterSetName", "timezone"},
	"aws:ec2/instance:Instance":                         {"availabilityZone", "subnetId", "privateIp", "placementGroup", "associatePublicIpAddress", "ebsOptimized", "rootBlockDevice.kmsKeyId", "rootBlockDevice.encrypted"},
	"aws:ebs/volume:Volume":                             {"kmsKeyId", "encrypted"},
	"aws:ec2/subnet:Subnet":                             {"availabilityZone", "availabilityZoneId"},
	"aws:ec2/eip:Eip":                                   {"domain", "address", "publicIpv4Pool", "networkBorderGroup"},
	"aws:ec2/natGateway:NatGateway":                     {"connectivityType", "privateIp"},
	"aws:elasticache/replicationGroup:ReplicationGroup": {"kmsKeyId", "port", "subnetGroupName", "dataTieringEnabled", "atRestEncryptionEnabled"},
	"aws:rds/cluster:Cluster":                           {"availabilityZones", "kmsKeyId", "databaseName", "storageEncrypted", "port"},
	"aws:rds/clusterInstance:ClusterInstance":           {"availabilityZone", "dbSubnetGroupName"},
	"aws:kms/key:Key":                                   {"customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                   {"vpcEndpointType"},
	"aws:lb/loadBalancer:LoadBalancer":                  {"internal", "loadBalancerType"},
	"aws:lb/targetGroup:TargetGroup":                    {"targetType", "protocolVersion"},
	"aws:rds/proxy:Proxy":                               {"endpointNetworkType", "targetConnectionNetworkType"},
}

// ReplacesWhen holds the replacements no single input flags: conditions on old and new inputs.
var ReplacesWhen = map[string]func(a, b map[string]any) bool{
	// A replication group cannot change engine (valkey to redis; redis to valkey is an
	// upgrade ElastiCache applies in place) nor move its engine version down.
	"aws:elasticache/replicationGroup:ReplicationGroup": func(a, b map[string]any) bool {
		ea, eb := fmt.Sprint(a["engine"]), fmt.Sprint(b["engine"])
		if ea != eb && !(ea == "redis" && eb == "valkey") {
			return true
		}
		return ea == eb && versionBelow(fmt.Sprint(b["engineVersion"]), fmt.Sprint(a["engineVersion"]))
	},
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

// FollowsReferent lists, per type, the inputs that are not ForceNew but still replace the
// resource when what they refer to is replaced: AWS refuses to move a DB or cache subnet group
// into another VPC's subnets, or a database into a subnet group of another VPC.
var FollowsReferent = map[string][]string{
	"aws:rds/subnetGroup:SubnetGroup":         {"subnetIds"},
	"aws:elasticache/subnetGroup:SubnetGroup": {"subnetIds"},
	"aws:rds/instance:Instance":               {"dbSubnetGroupName", "replicateSourceDb"},
	"aws:rds/clusterInstance:ClusterInstance": {"dbSubnetGroupName"},
}
