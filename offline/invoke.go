package offline

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// CloudflareIPv4 and CloudflareIPv6 are Cloudflare's published ranges, as its API returns them.
var (
	CloudflareIPv4 = []string{"173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22",
		"141.101.64.0/18", "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22",
		"198.41.128.0/17", "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22"}
	CloudflareIPv6 = []string{"2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32",
		"2405:8100::/32", "2a06:98c0::/29", "2c0f:f248::/32"}
)

// invoke answers the data-source calls the program makes; any other call fails the run, since
// the SDK's mocks would answer it with an empty map.
func invoke(m *mocks, token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	if f, ok := invokers[token]; ok {
		return f(m, args)
	}
	return nil, fmt.Errorf("offline engine: no mock for invoke %s: add a realistic answer to offline/invoke.go", token)
}

// invokers answer the data sources, each as the provider does.
var invokers = map[string]func(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error){
	"aws:index/getAvailabilityZones:getAvailabilityZones": invokeGetAvailabilityZones,
	"aws:rds/getEngineVersion:getEngineVersion":           invokeGetEngineVersion,
	"aws:index/getRegion:getRegion":                       invokeGetRegion,
	"aws:index/getCallerIdentity:getCallerIdentity":       invokeGetCallerIdentity,
	"aws:index/getPartition:getPartition":                 invokeGetPartition,
	"aws:elb/getServiceAccount:getServiceAccount":         invokeGetServiceAccount,
	"aws:ec2/getAmi:getAmi":                               invokeGetAmi,
	"cloudflare:index/getRulesets:getRulesets":            invokeGetRulesets,
	"cloudflare:index/getIpRanges:getIpRanges":            invokeGetIpRanges,
}

// invokeGetAvailabilityZones answers aws:index/getAvailabilityZones:getAvailabilityZones.
func invokeGetAvailabilityZones(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	r := m.region
	var names, ids []any
	// The offline account has opted into a Local Zone in us-east-1, which AWS lists, first,
	// unless the call keeps the zones that need no opt-in (EC2 API Reference,
	// DescribeAvailabilityZones: "opt-in-status - The opt-in status (opted-in |
	// not-opted-in | opt-in-not-required)"; Local Zones user guide).
	if r == "us-east-1" && !filtersOptInNotRequired(args) {
		names, ids = append(names, "us-east-1-bos-1a"), append(ids, "use1-bos1-az1")
	}
	for i, s := range zoneLetters(r) {
		names = append(names, r+s)
		ids = append(ids, fmt.Sprintf("%s-az%d", zoneIDPrefix(r), i+1))
	}
	return resource.NewPropertyMapFromMap(map[string]any{"id": r, "names": names, "zoneIds": ids, "groupNames": []any{r}}), nil
}

// invokeGetEngineVersion answers aws:rds/getEngineVersion:getEngineVersion.
func invokeGetEngineVersion(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	// The region's latest minor of the major asked for, as the data source answers with
	// latest=true (terraform-provider-aws, data source aws_rds_engine_version).
	major := "16"
	if v, ok := args["version"]; ok && v.IsString() {
		major = v.StringValue()
	}
	latest := map[string]string{"14": "14.15", "15": "15.10", "16": "16.6", "17": "17.4"}[major]
	if latest == "" {
		return nil, fmt.Errorf("offline: Aurora PostgreSQL has no major %q", major)
	}
	engine := "aurora-postgresql"
	if v, ok := args["engine"]; ok && v.IsString() {
		engine = v.StringValue()
	}
	return resource.NewPropertyMapFromMap(map[string]any{"id": engine, "engine": engine, "version": latest, "versionActual": latest,
		"parameterGroupFamily": engine + major, "status": "available"}), nil
}

// invokeGetRegion answers aws:index/getRegion:getRegion.
func invokeGetRegion(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	r := m.region
	return resource.NewPropertyMapFromMap(map[string]any{"id": r, "name": r, "region": r,
		"description": "offline region", "endpoint": "ec2." + r + ".amazonaws.com"}), nil
}

// invokeGetCallerIdentity answers aws:index/getCallerIdentity:getCallerIdentity.
func invokeGetCallerIdentity(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	r := m.region
	return resource.NewPropertyMapFromMap(map[string]any{"id": Account, "accountId": Account,
		"arn": "arn:" + PartitionOf(r) + ":iam::" + Account + ":user/offline", "userId": "AIDAOFFLINE"}), nil
}

// invokeGetPartition answers aws:index/getPartition:getPartition.
func invokeGetPartition(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	r := m.region
	p, suffix, reverse := PartitionOf(r), "amazonaws.com", "com.amazonaws"
	if p == "aws-cn" {
		suffix, reverse = "amazonaws.com.cn", "cn.com.amazonaws"
	}
	return resource.NewPropertyMapFromMap(map[string]any{"id": p, "partition": p,
		"dnsSuffix": suffix, "reverseDnsPrefix": reverse}), nil
}

// invokeGetServiceAccount answers aws:elb/getServiceAccount:getServiceAccount.
func invokeGetServiceAccount(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	r := m.region
	region := r
	if v, ok := args["region"]; ok && v.IsString() {
		region = v.StringValue()
	}
	acct, ok := elbAccounts[region]
	if !ok {
		// As the provider does: it knows no account for the region.
		return nil, fmt.Errorf("offline engine: aws:elb/getServiceAccount: unknown region %q (the provider knows no ELB account for it)", region)
	}
	return resource.NewPropertyMapFromMap(map[string]any{"id": acct, "region": region,
		"arn": "arn:" + PartitionOf(region) + ":iam::" + acct + ":root"}), nil
}

// invokeGetAmi answers aws:ec2/getAmi:getAmi.
func invokeGetAmi(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	arch := "x86_64"
	if n := nameFilter(args); len(n) > 0 && n[len(n)-5:] == "arm64" {
		arch = "arm64"
	}
	return resource.NewPropertyMapFromMap(map[string]any{
		"id": "ami-0c5" + "1a4ba9d7e8f0b1", "imageId": "ami-0c51a4ba9d7e8f0b1", "architecture": arch,
		"name": "al2023-ami-2023.6.20241121.0-kernel-6.1-" + arch, "ownerId": "137112412989",
		"rootDeviceName": "/dev/xvda", "virtualizationType": "hvm", "mostRecent": true,
	}), nil
}

// invokeGetRulesets answers cloudflare:index/getRulesets:getRulesets.
func invokeGetRulesets(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	zone := ""
	if v, ok := args["zoneId"]; ok && v.IsString() {
		zone = v.StringValue()
	}
	if zone == "" {
		return nil, fmt.Errorf("offline engine: cloudflare:getRulesets without a zoneId")
	}
	// The data source lists the zone's rulesets and keeps those the filter names (kind,
	// phase), then reads each kept one's rules; it never sets a rule's action_parameters
	// (terraform-provider-cloudflare v4, rulesets data source read function).
	want := map[string]string{}
	if f, ok := args["filter"]; ok && f.IsObject() {
		for _, k := range []string{"kind", "phase"} {
			if v := f.ObjectValue()[resource.PropertyKey(k)]; v.IsString() {
				want[k] = v.StringValue()
			}
		}
	}
	var sets []any
	for _, rs := range m.zones[zone] {
		if (want["kind"] != "" && rs["kind"] != want["kind"]) || (want["phase"] != "" && rs["phase"] != want["phase"]) {
			continue
		}
		sets = append(sets, withoutActionParameters(rs))
	}
	return resource.NewPropertyMapFromMap(map[string]any{"id": zone, "zoneId": zone, "includeRules": true, "rulesets": sets}), nil
}

// invokeGetIpRanges answers cloudflare:index/getIpRanges:getIpRanges.
func invokeGetIpRanges(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
	v4, v6 := toAny(CloudflareIPv4), toAny(CloudflareIPv6)
	return resource.NewPropertyMapFromMap(map[string]any{"id": "cloudflare-ip-ranges",
		"ipv4CidrBlocks": v4, "ipv6CidrBlocks": v6, "cidrBlocks": append(append([]any{}, v4...), v6...),
		"chinaIpv4CidrBlocks": []any{}, "chinaIpv6CidrBlocks": []any{}}), nil
}

// withoutActionParameters is a ruleset as the rulesets data source reads it: its rules lack
// their action parameters.
func withoutActionParameters(rs map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range rs {
		out[k] = v
	}
	if rules, ok := rs["rules"].([]any); ok {
		var kept []any
		for _, r := range rules {
			if rm, ok := r.(map[string]any); ok {
				c := map[string]any{}
				for k, v := range rm {
					if k != "actionParameters" {
						c[k] = v
					}
				}
				kept = append(kept, c)
			} else {
				kept = append(kept, r)
			}
		}
		out["rules"] = kept
	}
	return out
}

func nameFilter(args resource.PropertyMap) string {
	f, ok := args["filters"]
	if !ok || !f.IsArray() {
		return ""
	}
	for _, e := range f.ArrayValue() {
		if e.IsObject() && e.ObjectValue()["name"].IsString() && e.ObjectValue()["name"].StringValue() == "name" {
			if vs := e.ObjectValue()["values"]; vs.IsArray() && len(vs.ArrayValue()) > 0 {
				return vs.ArrayValue()[0].StringValue()
			}
		}
	}
	return ""
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// zoneLetters are the availability zones a new account sees in a region (EC2 User Guide,
// "Regions and Zones"): us-east-1 has six, us-west-1 two, most three.
func zoneLetters(region string) []string {
	switch region {
	case "us-east-1":
		return []string{"a", "b", "c", "d", "e", "f"}
	case "us-west-1":
		return []string{"a", "c"}
	case "us-west-2", "ap-northeast-1", "ap-northeast-2":
		return []string{"a", "b", "c", "d"}
	}
	return []string{"a", "b", "c"}
}

// zoneIDPrefix is a region's zone ID prefix: use1 for us-east-1, euw1 for eu-west-1.
func zoneIDPrefix(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return region
	}
	return parts[0] + parts[1][:1] + parts[2]
}

// PartitionOf is the partition a region belongs to.
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// elbAccounts are the regional accounts that deliver load balancer access logs, as the AWS
// provider's aws_elb_service_account knows them (ELB User Guide, "Enable access logs for your
// Application Load Balancer"); regions opened after August 2022 deliver as a service principal.
var elbAccounts = map[string]string{
	"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
	"af-south-1": "098369216593", "ap-east-1": "754344448648", "ap-south-1": "718504428378", "ap-northeast-1": "582318560864",
	"ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
	"ca-central-1": "985666609251", "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
	"eu-south-1": "635631232127", "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
	"sa-east-1": "507241528517", "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
	"us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
}

// filtersOptInNotRequired reports whether a getAvailabilityZones call keeps only the zones
// that need no opt-in.
func filtersOptInNotRequired(args resource.PropertyMap) bool {
	f, ok := args["filters"]
	if !ok || !f.IsArray() {
		return false
	}
	for _, e := range f.ArrayValue() {
		if !e.IsObject() {
			continue
		}
		o := e.ObjectValue()
		if o["name"].IsString() && o["name"].StringValue() == "opt-in-status" && o["values"].IsArray() {
			for _, v := range o["values"].ArrayValue() {
				if v.IsString() && v.StringValue() == "opt-in-not-required" {
					return true
				}
			}
		}
	}
	return false
}
