package offline

import (
	"strings"
	"testing"
)

func res(typ, name string, inputs map[string]any, ignore ...string) *Resource {
	return &Resource{URN: "urn:" + name, Type: typ, Name: name, ID: name, Custom: true, Inputs: inputs, IgnoreChanges: ignore}
}

const policy = "aws:s3/bucketPolicy:BucketPolicy"

// TestRules: each rule refuses what the provider would refuse and passes what it accepts.
func TestRules(t *testing.T) {
	cases := []struct {
		name  string
		rs    []*Resource
		want  string                      // "" passes
		zones map[string][]map[string]any // what the zones hold before the run
	}{
		{"anonymous read from a /29 IPv6 range", []*Resource{res(policy, "p", map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"IpAddress":{"aws:SourceIp":["104.16.0.0/13","2a06:98c0::/29"]}}}]}`})},
			"s3-public-policy", nil},
		{"anonymous read from a /7 IPv4 range", []*Resource{res(policy, "p", map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/7"}}}]}`})},
			"s3-public-policy", nil},
		{"anonymous read with no condition", []*Resource{res(policy, "p", map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`})},
			"s3-public-policy", nil},
		{"anonymous read from /32s and a /13", []*Resource{res(policy, "p", map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"IpAddress":{"aws:SourceIp":["104.16.0.0/13","2a06:98c0::/32"]}}}]}`})},
			"", nil},
		{"an anonymous deny (TLS only)", []*Resource{res(policy, "p", map[string]any{"policy": `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`})},
			"", nil},
		{"a minor pin with automatic upgrades", []*Resource{res("aws:rds/instance:Instance", "db", map[string]any{"engineVersion": "16.4", "autoMinorVersionUpgrade": true})},
			"engine-version-pin", nil},
		{"a minor pin on a cluster whose instances upgrade", []*Resource{res("aws:rds/cluster:Cluster", "c", map[string]any{"engineVersion": "16.6"}),
			res("aws:rds/clusterInstance:ClusterInstance", "i", map[string]any{"clusterIdentifier": "c", "engineVersion": "16.6", "autoMinorVersionUpgrade": true}, "engineVersion")},
			"engine-version-pin", nil},
		{"5 KB of environment variables", []*Resource{res("aws:lambda/function:Function", "f", map[string]any{"environment": map[string]any{"variables": map[string]any{"LLAMA_SETTINGS": strings.Repeat("x", 5000)}}})},
			"lambda-environment-size", nil},
		{"3 KB of environment variables", []*Resource{res("aws:lambda/function:Function", "f", map[string]any{"environment": map[string]any{"variables": map[string]any{"LLAMA_SETTINGS": strings.Repeat("x", 3000)}}})},
			"", nil},
		{"a major pin", []*Resource{res("aws:rds/instance:Instance", "db", map[string]any{"engineVersion": "16", "autoMinorVersionUpgrade": true})}, "", nil},
		{"a minor pin whose changes are ignored", []*Resource{res("aws:rds/cluster:Cluster", "c", map[string]any{"engineVersion": "16.6"}, "engineVersion"),
			res("aws:rds/clusterInstance:ClusterInstance", "i", map[string]any{"clusterIdentifier": "c", "engineVersion": "16.6"}, "engineVersion")}, "", nil},
		{"a minor pin without automatic upgrades", []*Resource{res("aws:rds/instance:Instance", "db", map[string]any{"engineVersion": "16.4", "autoMinorVersionUpgrade": false})}, "", nil},
		{"two entry points of one phase in one zone", []*Resource{
			res("cloudflare:index/ruleset:Ruleset", "a", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_cache_settings"}),
			res("cloudflare:index/ruleset:Ruleset", "b", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_cache_settings"})},
			"one-entry-point-per-phase", nil},
		{"DynamoDB errors by table alone", []*Resource{res("aws:cloudwatch/metricAlarm:MetricAlarm", "a", map[string]any{"namespace": "AWS/DynamoDB", "metricName": "SystemErrors", "dimensions": map[string]any{"TableName": "t"}, "statistic": "Sum"})},
			"published-metrics", nil},
		{"a percentile DynamoDB does not keep", []*Resource{res("aws:cloudwatch/dashboard:Dashboard", "d", map[string]any{"dashboardBody": `{"widgets":[{"properties":{"metrics":[["AWS/DynamoDB","SuccessfulRequestLatency","Operation","GetItem","TableName","t",{"stat":"p95"}]]}}]}`})},
			"published-metrics", nil},
		{"status checks by group", []*Resource{res("aws:cloudwatch/metricAlarm:MetricAlarm", "a", map[string]any{"metricQueries": []any{map[string]any{"metric": map[string]any{"namespace": "AWS/EC2", "metricName": "StatusCheckFailed", "dimensions": map[string]any{"AutoScalingGroupName": "g"}, "stat": "Maximum"}}}})},
			"published-metrics", nil},
		{"DynamoDB errors per operation, Aurora CPU per role", []*Resource{
			res("aws:cloudwatch/metricAlarm:MetricAlarm", "a", map[string]any{"namespace": "AWS/DynamoDB", "metricName": "SystemErrors", "dimensions": map[string]any{"TableName": "t", "Operation": "PutItem"}, "statistic": "Sum"}),
			res("aws:cloudwatch/metricAlarm:MetricAlarm", "b", map[string]any{"namespace": "AWS/RDS", "metricName": "CPUUtilization", "dimensions": map[string]any{"DBClusterIdentifier": "c", "Role": "WRITER"}, "statistic": "Average"}),
			res("aws:cloudwatch/metricAlarm:MetricAlarm", "c", map[string]any{"namespace": "Llama/dev", "metricName": "SlowQueries-x", "statistic": "Sum"})}, "", nil},
		{"one entry point per phase", []*Resource{
			res("cloudflare:index/ruleset:Ruleset", "a", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_cache_settings"}),
			res("cloudflare:index/ruleset:Ruleset", "b", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_config_settings"})}, "", nil},
		{"a ruleset created where the phase holds rules", []*Resource{
			res("cloudflare:index/ruleset:Ruleset", "a", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_cache_settings"})},
			"entry-point-held", othersZone},
		{"the same entry point imported", []*Resource{
			withImport(res("cloudflare:index/ruleset:Ruleset", "a", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_cache_settings"}), "zone/z/e1")},
			"", othersZone},
		{"the entry point the stack created before", []*Resource{
			res("cloudflare:index/ruleset:Ruleset", "e1", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_cache_settings"})},
			"", heldZone},
		{"an entry point the stack holds, imported again", []*Resource{
			withImport(res("cloudflare:index/ruleset:Ruleset", "e1", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_cache_settings"}), "zone/z/e1")},
			"entry-point-held", heldZone},
		{"an entry point imported before, with its import ID", []*Resource{
			withImport(res("cloudflare:index/ruleset:Ruleset", "e1", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_cache_settings"}), "zone/z/e2")},
			"", map[string][]map[string]any{"z": {{"id": "e2", "kind": "zone", "phase": "http_request_cache_settings",
				"rules": []any{map[string]any{"ref": "r"}}, "heldBy": map[string]any{"llama/dev": "zone/z/e2"}}}}},
		{"another phase of a held zone", []*Resource{
			res("cloudflare:index/ruleset:Ruleset", "a", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_config_settings"})},
			"", heldZone},
		{"a Host header override on the free plan", []*Resource{
			res("cloudflare:index/ruleset:Ruleset", "o", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_origin",
				"rules": []any{map[string]any{"action": "route", "actionParameters": map[string]any{"hostHeader": "bucket.s3.amazonaws.com"}}}})},
			"cloudflare-plan", nil},
		{"a URL rewrite on the free plan", []*Resource{
			res("cloudflare:index/ruleset:Ruleset", "t", map[string]any{"kind": "zone", "zoneId": "z", "phase": "http_request_transform",
				"rules": []any{map[string]any{"action": "rewrite", "actionParameters": map[string]any{"uri": map[string]any{"path": map[string]any{"expression": `concat("/static", http.request.uri.path)`}}}}}})},
			"", nil},
	}
	for _, c := range cases {
		err := CheckRules(&Plan{Project: "llama", Stack: "dev", Resources: c.rs, Zones: c.zones, Config: map[string]string{"llama:cloudflarePlan": "free"}})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), "rule "+c.want)):
			t.Errorf("%s: %v, want rule %s", c.name, err, c.want)
		case c.want != "" && !strings.Contains(err.Error(), "urn:"):
			t.Errorf("%s: the error does not name the resource: %v", c.name, err)
		}
	}
}

// heldZone: the cache phase's entry point e1 holds a rule, and stack llama/dev created it.
var heldZone = map[string][]map[string]any{"z": {{"id": "e1", "kind": "zone", "phase": "http_request_cache_settings",
	"rules": []any{map[string]any{"ref": "r", "expression": "true", "action": "set_cache_settings"}}, "heldBy": map[string]any{"llama/dev": ""}}}}

// othersZone: the same entry point, created by stack llama/prod.
var othersZone = map[string][]map[string]any{"z": {{"id": "e1", "kind": "zone", "phase": "http_request_cache_settings",
	"rules": []any{map[string]any{"ref": "r", "expression": "true", "action": "set_cache_settings"}}, "heldBy": map[string]any{"llama/prod": ""}}}}

func withImport(r *Resource, id string) *Resource { r.ImportID = id; return r }
