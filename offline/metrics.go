package offline

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// published says, per namespace and metric, the dimension sets AWS publishes the metric under
// (names joined by commas, sorted) and whether it keeps percentiles. An alarm or a widget on
// anything else watches nothing. Sources, per namespace:
//   - AWS/RDS: RDS User Guide, "Amazon CloudWatch metrics for Amazon RDS" and "... for Amazon
//     Aurora" (instance metrics also aggregated by DBClusterIdentifier and by
//     DBClusterIdentifier,Role; Performance Insights' DBLoad* per instance only);
//   - AWS/EC2: EC2 User Guide, "CloudWatch metrics for your instances" (AutoScalingGroupName with
//     detailed monitoring; status checks per instance);
//   - AWS/EBS: EBS User Guide, "Amazon CloudWatch metrics for Amazon EBS";
//   - AWS/AutoScaling: EC2 Auto Scaling User Guide, "CloudWatch metrics for Auto Scaling groups";
//   - AWS/ApplicationELB: ELB User Guide, "CloudWatch metrics for your Application Load Balancer";
//   - AWS/ElastiCache: ElastiCache User Guide, "Metrics for Valkey and Redis OSS";
//   - AWS/DynamoDB: DynamoDB Developer Guide, "DynamoDB Metrics and dimensions";
//   - AWS/Lambda: Lambda Developer Guide, "Types of metrics for Lambda functions";
//   - AWS/ApiGateway: API Gateway Developer Guide, "CloudWatch metrics for HTTP APIs".
var published = map[string]map[string]metricShape{
	"AWS/RDS": {
		"CPUUtilization":             {dims: rdsDims, pct: false},
		"DatabaseConnections":        {dims: rdsDims},
		"ReadIOPS":                   {dims: []string{"DBInstanceIdentifier"}},
		"WriteIOPS":                  {dims: []string{"DBInstanceIdentifier"}},
		"ReadLatency":                {dims: rdsDims, pct: true},
		"WriteLatency":               {dims: rdsDims, pct: true},
		"ReplicaLag":                 {dims: []string{"DBInstanceIdentifier"}},
		"DBLoadNonCPU":               {dims: []string{"DBInstanceIdentifier"}},
		"VolumeReadIOPs":             {dims: []string{"DBClusterIdentifier"}},
		"VolumeWriteIOPs":            {dims: []string{"DBClusterIdentifier"}},
		"AuroraReplicaLagMaximum":    {dims: []string{"DBClusterIdentifier", "DBInstanceIdentifier"}},
		"ServerlessDatabaseCapacity": {dims: []string{"DBClusterIdentifier", "DBInstanceIdentifier"}},
		"ACUUtilization":             {dims: []string{"DBClusterIdentifier", "DBInstanceIdentifier"}},
	},
	"AWS/EC2": {
		"CPUUtilization":    {dims: []string{"InstanceId", "AutoScalingGroupName"}},
		"NetworkIn":         {dims: []string{"InstanceId", "AutoScalingGroupName"}},
		"NetworkOut":        {dims: []string{"InstanceId", "AutoScalingGroupName"}},
		"StatusCheckFailed": {dims: []string{"InstanceId"}},
	},
	"AWS/EBS": {"VolumeReadOps": {dims: []string{"VolumeId"}}, "VolumeWriteOps": {dims: []string{"VolumeId"}}},
	"AWS/AutoScaling": {
		"GroupInServiceInstances": {dims: []string{"AutoScalingGroupName"}},
		"GroupDesiredCapacity":    {dims: []string{"AutoScalingGroupName"}},
	},
	"AWS/ApplicationELB": {
		"RequestCount":              {dims: []string{"LoadBalancer", "LoadBalancer,TargetGroup"}},
		"HTTPCode_Target_5XX_Count": {dims: []string{"LoadBalancer", "LoadBalancer,TargetGroup"}},
		"HTTPCode_ELB_5XX_Count":    {dims: []string{"LoadBalancer"}},
		"ProcessedBytes":            {dims: []string{"LoadBalancer"}},
		"TargetResponseTime":        {dims: []string{"LoadBalancer", "LoadBalancer,TargetGroup"}, pct: true},
		"HealthyHostCount":          {dims: []string{"LoadBalancer,TargetGroup"}},
		"UnHealthyHostCount":        {dims: []string{"LoadBalancer,TargetGroup"}},
	},
	"AWS/ElastiCache": {
		"EngineCPUUtilization":          {dims: []string{"CacheClusterId", "CacheClusterId,CacheNodeId"}},
		"DatabaseMemoryUsagePercentage": {dims: []string{"CacheClusterId", "CacheClusterId,CacheNodeId"}},
		"CacheHitRate":                  {dims: []string{"CacheClusterId", "CacheClusterId,CacheNodeId"}},
		"Evictions":                     {dims: []string{"CacheClusterId", "CacheClusterId,CacheNodeId"}},
	},
	"AWS/DynamoDB": {
		"ConsumedReadCapacityUnits":  {dims: []string{"TableName", "GlobalSecondaryIndexName,TableName"}},
		"ConsumedWriteCapacityUnits": {dims: []string{"TableName", "GlobalSecondaryIndexName,TableName"}},
		"ReadThrottleEvents":         {dims: []string{"TableName", "GlobalSecondaryIndexName,TableName"}},
		"WriteThrottleEvents":        {dims: []string{"TableName", "GlobalSecondaryIndexName,TableName"}},
		"ThrottledRequests":          {dims: []string{"Operation,TableName"}},
		"SystemErrors":               {dims: []string{"Operation,TableName"}},
		"SuccessfulRequestLatency":   {dims: []string{"Operation,TableName"}},
		"UserErrors":                 {dims: []string{""}},
	},
	"AWS/Lambda": {
		"Duration":             {dims: []string{"FunctionName"}, pct: true},
		"Errors":               {dims: []string{"FunctionName"}},
		"Throttles":            {dims: []string{"FunctionName"}},
		"ConcurrentExecutions": {dims: []string{"FunctionName", ""}},
	},
	"AWS/ApiGateway": {
		"Count":         {dims: []string{"ApiId", "ApiId,Stage"}},
		"5xx":           {dims: []string{"ApiId", "ApiId,Stage"}},
		"DataProcessed": {dims: []string{"ApiId", "ApiId,Stage"}},
		"Latency":       {dims: []string{"ApiId", "ApiId,Stage"}, pct: true},
	},
}

var rdsDims = []string{"DBInstanceIdentifier", "DBClusterIdentifier", "DBClusterIdentifier,Role"}

// metricShape is how AWS publishes one metric.
type metricShape struct {
	dims []string // dimension-name sets, comma-joined and sorted
	pct  bool     // percentile statistics kept
}

// checkMetric says what is wrong with watching a metric, or "".
func checkMetric(ns, name string, dims []string, stat string) string {
	if strings.HasPrefix(ns, "Llama/") {
		return "" // the stack's own log metrics
	}
	metrics, ok := published[ns]
	if !ok {
		return fmt.Sprintf("namespace %s is not in the catalog of published metrics (offline/metrics.go)", ns)
	}
	shape, ok := metrics[name]
	if !ok {
		return fmt.Sprintf("%s %s is not in the catalog of published metrics (offline/metrics.go)", ns, name)
	}
	sort.Strings(dims)
	set := strings.Join(dims, ",")
	found := false
	for _, d := range shape.dims {
		found = found || d == set
	}
	if !found {
		return fmt.Sprintf("%s %s is not published by dimensions [%s] (only %s)", ns, name, set, strings.Join(shape.dims, " | "))
	}
	if len(stat) > 1 && stat[0] == 'p' && stat[1] >= '0' && stat[1] <= '9' && !shape.pct {
		return fmt.Sprintf("%s %s keeps no percentiles (%s)", ns, name, stat)
	}
	return ""
}

func keysOfMap(m any) []string {
	mm, _ := m.(map[string]any)
	out := make([]string, 0, len(mm))
	for k := range mm {
		out = append(out, k)
	}
	return out
}

// checkPublishedMetrics holds every alarm and dashboard widget to the catalog.
func checkPublishedMetrics(p *Plan) []error {
	var errs []error
	for _, r := range p.Resources {
		switch r.Type {
		case "aws:cloudwatch/metricAlarm:MetricAlarm":
			errs = append(errs, alarmMetrics(r)...)
		case "aws:cloudwatch/dashboard:Dashboard":
			errs = append(errs, dashboardMetrics(r)...)
		}
	}
	return errs
}

// alarmMetrics checks an alarm's metric, or each metric of its metric math.
func alarmMetrics(r *Resource) []error {
	var errs []error
	if ns, _ := r.Inputs["namespace"].(string); ns != "" {
		stat, _ := r.Inputs["statistic"].(string)
		if ext, _ := r.Inputs["extendedStatistic"].(string); ext != "" {
			stat = ext
		}
		if why := checkMetric(ns, fmt.Sprint(r.Inputs["metricName"]), keysOfMap(r.Inputs["dimensions"]), stat); why != "" {
			errs = append(errs, &RuleError{URN: r.URN, Input: "metricName", Why: why})
		}
	}
	qs, _ := r.Inputs["metricQueries"].([]any)
	for i, q := range qs {
		m, ok := q.(map[string]any)["metric"].(map[string]any)
		if !ok {
			continue
		}
		if why := checkMetric(fmt.Sprint(m["namespace"]), fmt.Sprint(m["metricName"]), keysOfMap(m["dimensions"]), fmt.Sprint(m["stat"])); why != "" {
			errs = append(errs, &RuleError{URN: r.URN, Input: fmt.Sprintf("metricQueries[%d]", i), Why: why})
		}
	}
	return errs
}

// DashboardWidgets reads a dashboard's body: each widget's metric arrays ([namespace, name,
// dimension, value, ..., {options}], or an expression's); nil when the body is not JSON.
func DashboardWidgets(body string) [][][]any {
	var d struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if json.Unmarshal([]byte(body), &d) != nil {
		return nil
	}
	out := make([][][]any, len(d.Widgets))
	for i, w := range d.Widgets {
		out[i] = w.Properties.Metrics
	}
	return out
}

// dashboardMetrics checks every metric a dashboard's widgets draw.
func dashboardMetrics(r *Resource) []error {
	raw, _ := r.Inputs["dashboardBody"].(string)
	var errs []error
	for wi, metrics := range DashboardWidgets(raw) {
		for _, m := range metrics {
			ns, name, dims, stat, ok := widgetMetric(m)
			if !ok {
				continue
			}
			if why := checkMetric(ns, name, dims, stat); why != "" {
				errs = append(errs, &RuleError{URN: r.URN, Input: fmt.Sprintf("dashboardBody.widgets[%d]", wi), Why: why})
			}
		}
	}
	return errs
}

// widgetMetric reads one metric array of a widget, [namespace, name, dim, value, ...,
// {options}]; ok is false for an expression.
func widgetMetric(m []any) (ns, name string, dims []string, stat string, ok bool) {
	if len(m) < 2 {
		return "", "", nil, "", false
	}
	ns, ok1 := m[0].(string)
	name, ok2 := m[1].(string)
	if !ok1 || !ok2 {
		return "", "", nil, "", false
	}
	for i := 2; i < len(m); i++ {
		if opts, ok := m[i].(map[string]any); ok {
			stat, _ = opts["stat"].(string)
			continue
		}
		if i%2 == 0 {
			dims = append(dims, fmt.Sprint(m[i]))
		}
	}
	return ns, name, dims, stat, true
}
