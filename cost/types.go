package cost

import (
	"fmt"
	"sort"
	"strings"

	"github.com/llama-stages/llama/components/compute"
	"github.com/llama-stages/llama/stacks"
)

// price adds one resource's items; false means the type is not priced here.
func (pr *pricer) price(res *offlineResource) (bool, error) {
	f, ok := pricing[res.Type]
	if !ok {
		return false, nil
	}
	return true, f(pr, res)
}

// pricing prices each type the program uses, from the price table and the usage profile.
var pricing = map[string]func(pr *pricer, res *offlineResource) error{
	"aws:ec2/instance:Instance": func(pr *pricer, res *offlineResource) error {
		r := pr.r
		class := str(in(res, "instanceType"))
		p, err := lookup("EC2", pr.region, r.EC2, class)
		if err != nil {
			return err
		}
		pr.hourly(res, 1, class, p)
		pr.ebs(res, num(in(res, "rootBlockDevice", "volumeSize")), "root volume")
		return nil
	},
	"aws:ebs/volume:Volume": func(pr *pricer, res *offlineResource) error {
		pr.ebs(res, num(in(res, "size")), "data volume")
		return nil
	},
	"aws:ec2/eip:Eip": func(pr *pricer, res *offlineResource) error {
		g := pr.g
		pr.hourly(res, 1, "public IPv4 address", g["publicIpv4Hour"])
		return nil
	},
	"aws:ec2/natGateway:NatGateway": func(pr *pricer, res *offlineResource) error {
		r, u := pr.r, pr.u
		pr.hourly(res, 1, "NAT gateway", r.NATHour)
		nats := float64(len(pr.ofType(res.Type)))
		gb := (u["privateEgressGB"] + pr.fleetLogGB()) / nats
		pr.add(res, "usage", gb*r.NATGb, "%.1f GB processed x $%g/GB", gb, r.NATGb)
		return nil
	},
	"aws:lb/loadBalancer:LoadBalancer": func(pr *pricer, res *offlineResource) error {
		r, g := pr.r, pr.g
		pr.hourly(res, 1, "load balancer", r.ALBHour)
		azs := float64(len(in(res, "subnets").([]any)))
		pr.hourly(res, azs, "public IPv4 addresses (one per AZ)", g["publicIpv4Hour"])
		// An LCU is 1 GB an hour processed (the dimension that dominates for an API); at
		// least one. The static files Cloudflare does not hold pass through it too.
		dynamic, static := pr.originGB()
		gb := (dynamic + static) / hoursPerMonth
		lcu := max(1, gb)
		pr.add(res, "usage", lcu*hoursPerMonth*r.ALBLcuHour, "%.2f LCU x %d h x $%g/LCU-h", lcu, hoursPerMonth, r.ALBLcuHour)
		return nil
	},
	"aws:autoscaling/group:Group": func(pr *pricer, res *offlineResource) error {
		r := pr.r
		lt := pr.byID(str(in(res, "launchTemplate", "id")))
		if lt == nil {
			return fmt.Errorf("%s: its launch template is not in the plan", res.URN)
		}
		class := str(in(lt, "instanceType"))
		p, err := lookup("EC2", pr.region, r.EC2, class)
		if err != nil {
			return err
		}
		n := pr.fleetSize(res)
		pr.hourly(res, n, class+" instances (the month's average load)", p)
		var root float64
		for _, m := range in(lt, "blockDeviceMappings").([]any) {
			root += num(m.(map[string]any)["ebs"].(map[string]any)["volumeSize"])
		}
		pr.add(res, "fixed", n*root*r.EBSGp3GbMonth, "%g x %g GB gp3 root volumes x $%g/GB-month", n, root, r.EBSGp3GbMonth)
		pr.instanceMetrics(res, in(lt, "monitoring", "enabled") == true, n, compute.AgentMetrics(false))
		return nil
	},
	"aws:rds/instance:Instance": func(pr *pricer, res *offlineResource) error {
		return pr.rdsInstance(res)
	},
	"aws:rds/cluster:Cluster": func(pr *pricer, res *offlineResource) error {
		r, u := pr.r, pr.u
		clusters := float64(len(pr.ofType(res.Type)))
		gb := u["auroraStorageGB"]
		pr.add(res, "usage", gb*r.AuroraStorageGbMonth, "%g GB x $%g/GB-month", gb, r.AuroraStorageGbMonth)
		io := pr.dynamicRequests() * u["auroraIoPerRequest"] / clusters / 1e6
		pr.add(res, "usage", io*r.AuroraIoMillion, "%.1f M I/Os x $%g/M", io, r.AuroraIoMillion)
		return nil
	},
	"aws:rds/clusterInstance:ClusterInstance": func(pr *pricer, res *offlineResource) error {
		return pr.clusterInstance(res)
	},
	"aws:rds/proxy:Proxy": func(pr *pricer, res *offlineResource) error {
		g := pr.g
		// Behind Aurora Serverless v2 the proxy bills the targets' ACUs, at least 8.
		acu := pr.proxiedAcu()
		pr.hourly(res, g["rdsProxyMinAcu"], "ACU minimum", pr.r.RDSProxyAcuHour)
		if extra := acu - g["rdsProxyMinAcu"]; extra > 0 {
			pr.add(res, "usage", extra*hoursPerMonth*pr.r.RDSProxyAcuHour, "%.1f ACU above the minimum x %d h x $%g/ACU-h", extra, hoursPerMonth, pr.r.RDSProxyAcuHour)
		}
		return nil
	},
	"aws:ec2/vpcEndpoint:VpcEndpoint": func(pr *pricer, res *offlineResource) error {
		// An interface endpoint (a gateway endpoint is free, offline.Catalog): by the hour in
		// each AZ, and by the GB processed, which the settings and secrets the functions read
		// keep far below a GB a month.
		azs := float64(len(in(res, "subnetIds").([]any)))
		pr.hourly(res, azs, "interface endpoint AZs", pr.r.InterfaceEndpointAzHour)
		return nil
	},
	"aws:rds/proxyEndpoint:ProxyEndpoint": func(pr *pricer, res *offlineResource) error {
		azs := float64(len(in(res, "vpcSubnetIds").([]any)))
		pr.hourly(res, azs, "interface endpoint AZs", pr.r.InterfaceEndpointAzHour)
		return nil
	},
	"aws:elasticache/replicationGroup:ReplicationGroup": func(pr *pricer, res *offlineResource) error {
		r, g := pr.r, pr.g
		class, engine := str(in(res, "nodeType")), str(in(res, "engine"))
		p, err := lookup("ElastiCache", pr.region, r.ElastiCacheRedis, class)
		if err != nil {
			return err
		}
		what := class + " Redis OSS nodes"
		if engine == "valkey" {
			p, what = p*(1-g["valkeyDiscount"]), class+" Valkey nodes (Redis OSS less 20%)"
		}
		pr.hourly(res, num(in(res, "numCacheClusters")), what, round4(p))
		return nil
	},
	"aws:kms/key:Key": func(pr *pricer, res *offlineResource) error {
		g := pr.g
		pr.add(res, "fixed", g["kmsKeyMonth"], "1 key x $%g/month", g["kmsKeyMonth"])
		return nil
	},
	"aws:secretsmanager/secret:Secret": func(pr *pricer, res *offlineResource) error {
		g := pr.g
		pr.add(res, "fixed", g["secretMonth"], "1 secret x $%g/month", g["secretMonth"])
		return nil
	},
	"aws:cloudwatch/metricAlarm:MetricAlarm": func(pr *pricer, res *offlineResource) error {
		g := pr.g
		metrics := 1.0
		if qs, ok := in(res, "metricQueries").([]any); ok && len(qs) > 0 {
			metrics = 0
			for _, q := range qs {
				if q.(map[string]any)["metric"] != nil {
					metrics++
				}
			}
		}
		pay, note := pr.billable("alarmMetric", metrics)
		pr.add(res, "fixed", pay*g["alarmMetricMonth"], "%g metric(s) x $%g/month%s", metrics, g["alarmMetricMonth"], note)
		return nil
	},
	"aws:cloudwatch/dashboard:Dashboard": func(pr *pricer, res *offlineResource) error {
		pr.dashboard(res)
		return nil
	},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": func(pr *pricer, res *offlineResource) error {
		g := pr.g
		pay, note := pr.billable("customMetric", 1)
		pr.add(res, "fixed", pay*g["customMetricMonth"], "1 custom metric x $%g/month%s", g["customMetricMonth"], note)
		return nil
	},
	"aws:cloudwatch/logGroup:LogGroup": func(pr *pricer, res *offlineResource) error {
		pr.logGroup(res)
		return nil
	},
	"aws:s3/bucketV2:BucketV2": func(pr *pricer, res *offlineResource) error {
		pr.bucket(res)
		return nil
	},
	"aws:dynamodb/table:Table": func(pr *pricer, res *offlineResource) error {
		pr.table(res)
		return nil
	},
	"aws:lambda/function:Function": func(pr *pricer, res *offlineResource) error {
		g, u := pr.g, pr.u
		// The function serves the API's requests; the SPA's files come from its bucket.
		req := pr.functionRequests()
		mem := num(in(res, "memorySize")) / 1024
		gbs := req * u["lambdaMs"] / 1000 * mem
		payGbs, note := pr.billable("lambdaGbSecond", gbs)
		pr.add(res, "usage", payGbs*g["lambdaArmGbSecond"], "%.4g GB-s (arm64, %g ms x %g GB) x $%g/GB-s%s", gbs, u["lambdaMs"], mem, g["lambdaArmGbSecond"], note)
		payReq, note := pr.billable("lambdaRequestMillion", req/1e6)
		pr.add(res, "usage", payReq*g["lambdaRequestMillion"], "%.4g M requests x $%g/M%s", req/1e6, g["lambdaRequestMillion"], note)
		return nil
	},
	"aws:apigatewayv2/api:Api": func(pr *pricer, res *offlineResource) error {
		r := pr.r
		// The SPA's files come from its bucket, not the API.
		req := pr.functionRequests()
		c, crossed := tiered(req/1e6, r.HTTPAPIMillion, pr.tiers["httpApiMillion"])
		basis := "%.4g M requests x $%g/M"
		if crossed > 0 {
			basis += " (past 300 M at the lower tier's price)"
		}
		pr.add(res, "usage", c, basis, req/1e6, r.HTTPAPIMillion)
		return nil
	},
}

func round4(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }

func (pr *pricer) ebs(res *offlineResource, gb float64, what string) {
	pr.add(res, "fixed", gb*pr.r.EBSGp3GbMonth, "%s: %g GB gp3 x $%g/GB-month", what, gb, pr.r.EBSGp3GbMonth)
}

// rdsInstance prices an RDS for PostgreSQL instance: Multi-AZ doubles instance and storage;
// a replica holds its source's storage.
func (pr *pricer) rdsInstance(res *offlineResource) error {
	class := str(in(res, "instanceClass"))
	p, err := lookup("RDS for PostgreSQL", pr.region, pr.r.RDS, class)
	if err != nil {
		return err
	}
	copies, what := 1.0, class
	if in(res, "multiAz") == true {
		copies, what = 2, class+" Multi-AZ (primary and standby)"
	}
	storage := num(in(res, "allocatedStorage"))
	if src := str(in(res, "replicateSourceDb")); src != "" {
		what = class + " read replica"
		for _, s := range pr.ofType(res.Type) {
			if str(in(s, "identifier")) == src {
				storage = num(in(s, "allocatedStorage"))
			}
		}
	}
	pr.hourly(res, copies, what, p)
	pr.add(res, "fixed", copies*storage*pr.r.RDSGp3GbMonth, "%g x %g GB gp3 x $%g/GB-month", copies, storage, pr.r.RDSGp3GbMonth)
	return nil
}

// clusterInstance prices an Aurora instance: a provisioned class by the hour, a serverless
// one by its ACUs (the cluster's minimum is fixed, the average above it usage).
func (pr *pricer) clusterInstance(res *offlineResource) error {
	class := str(in(res, "instanceClass"))
	if class != "db.serverless" {
		p, err := lookup("Aurora PostgreSQL", pr.region, pr.r.Aurora, class)
		if err != nil {
			return err
		}
		pr.hourly(res, 1, class, p)
		return nil
	}
	minAcu := pr.minAcu(res)
	avg := pr.u["readerAcu"]
	role := "reader"
	if strings.HasSuffix(str(in(res, "identifier")), "-0") {
		avg, role = pr.u["writerAcu"], "writer"
	}
	avg = pr.withinAcu(res, role, avg)
	price := pr.r.AuroraAcuHour
	pr.add(res, "fixed", minAcu*hoursPerMonth*price, "%s minimum %g ACU x %d h x $%g/ACU-h", role, minAcu, hoursPerMonth, price)
	if extra := avg - minAcu; extra > 0 {
		pr.add(res, "usage", extra*hoursPerMonth*price, "%s average %g ACU above the minimum x %d h x $%g/ACU-h", role, extra, hoursPerMonth, price)
	}
	return nil
}

func (pr *pricer) minAcu(inst *offlineResource) float64 {
	c := pr.byID(str(in(inst, "clusterIdentifier")))
	if c == nil {
		return 0
	}
	return num(in(c, "serverlessv2ScalingConfiguration", "minCapacity"))
}

// proxiedAcu is the average ACUs of the instances behind the proxy: the database's (not the
// shards', which have no proxy).
func (pr *pricer) proxiedAcu() float64 {
	total := 0.0
	for _, i := range pr.ofType("aws:rds/clusterInstance:ClusterInstance") {
		if pr.component(i) != "database" {
			continue
		}
		avg := pr.u["readerAcu"]
		if strings.HasSuffix(str(in(i, "identifier")), "-0") {
			avg = pr.u["writerAcu"]
		}
		total += max(avg, pr.minAcu(i))
	}
	return total
}

// dashboard: the account's first three dashboards are free; the stack's are assumed to be
// them.
func (pr *pricer) dashboard(res *offlineResource) {
	// The free dashboards hold up to 50 metrics each (CloudWatch pricing, free tier).
	if n := dashboardMetrics(str(in(res, "dashboardBody"))); float64(n) > pr.g["freeDashboardMetrics"] {
		pr.add(res, "fixed", pr.g["dashboardMonth"], "dashboard of %d metrics, past the free tier's %g a dashboard x $%g/month", n, pr.g["freeDashboardMetrics"], pr.g["dashboardMonth"])
		return
	}
	var names []string
	for _, d := range pr.ofType(res.Type) {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	for i, n := range names {
		if n == res.Name && i >= int(pr.g["freeDashboards"]) {
			pr.add(res, "fixed", pr.g["dashboardMonth"], "dashboard beyond the free %g x $%g/month", pr.g["freeDashboards"], pr.g["dashboardMonth"])
		}
	}
}

// logGroup prices ingestion: the request logs (nginx, the app, the API's access log and the
// function's) share the requests' log bytes; the flow logs take theirs.
func (pr *pricer) logGroup(res *offlineResource) {
	u, r := pr.u, pr.r
	var gb float64
	switch {
	case strings.HasSuffix(res.Name, "flow-logs"):
		// A flow log records connections, not requests: each connection's minute seen by the
		// network interfaces at both of its ends, both ways.
		gb = pr.originRequests() / max(u["requestsPerConnection"], 1) * flowRecordsPerConnection * u["flowLogBytesPerRecord"] / 1e9
	case exportedLog(str(in(res, "name"))):
		gb = u["exportedLogGB"]
	case pr.requestLog(res.Name):
		n := 0
		for _, g := range pr.ofType(res.Type) {
			if pr.requestLog(g.Name) {
				n++
			}
		}
		gb = pr.originRequests() * u["logBytesPerRequest"] / 1e9 / float64(n)
	}
	if gb > 0 {
		pay, note := pr.billable("logsGb", gb)
		price := pay * r.LogsIngestGb
		if strings.HasSuffix(res.Name, "flow-logs") {
			// Flow logs are vended logs, whose ingestion is tiered (CloudWatch pricing,
			// "Vended Logs").
			var crossed int
			if price, crossed = tiered(pay, r.LogsIngestGb, pr.tiers["vendedLogsGb"]); crossed > 0 {
				note += " (vended logs: less past 10 TB)"
			}
		}
		pr.add(res, "usage", price, "%.2f GB ingested x $%g/GB%s", gb, r.LogsIngestGb, note)
		pr.logStorage(res, gb)
	}
}

func (pr *pricer) requestLog(name string) bool {
	for _, s := range []string{"nginx-logs", "app-logs", "api-logs", "api-access-logs"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// bucket prices storage and requests: the static assets' or the SPA's bucket serves the
// static share of requests (less what Cloudflare serves from its cache); the load balancer's
// access logs and the app's builds are a little storage.
func (pr *pricer) bucket(res *offlineResource) {
	u, r := pr.u, pr.r
	switch res.Name {
	case "static", "spa":
		gb := u["staticStorageGB"]
		pr.add(res, "usage", gb*r.S3GbMonth, "%g GB x $%g/GB-month", gb, r.S3GbMonth)
		// The app or the function reads each file Cloudflare does not serve from its cache.
		gets := pr.staticOriginRequests()
		pr.add(res, "usage", gets/1000*pr.r.S3GetThousand, "%.4g M GET requests x $%g/1,000", gets/1e6, pr.r.S3GetThousand)
	default:
		gb := 0.05 // builds of the app, a few tens of MB each
		if strings.Contains(res.Name, "access-logs") {
			gb = pr.originRequests() * 300 / 1e9 // ~300 bytes a request, kept as long as the logs
		}
		pr.add(res, "usage", gb*r.S3GbMonth, "%.2f GB x $%g/GB-month", gb, r.S3GbMonth)
	}
}

// table prices on-demand requests and storage: the activity table takes the activity writes
// and reads; point-in-time recovery bills the storage again.
func (pr *pricer) table(res *offlineResource) {
	u, r := pr.u, pr.r
	tables := pr.ofType(res.Type)
	share := 1 / float64(len(tables))
	for _, t := range tables {
		if strings.HasSuffix(str(in(t, "name")), "activity") {
			share = 0
			if t == res {
				share = 1
			}
		}
	}
	writes, reads := u["requests"]*u["activityShare"]*share, u["requests"]*u["activityReadShare"]*share
	pr.add(res, "usage", writes/1e6*r.DynamoWriteMillion, "%.4g M writes x $%g/M", writes/1e6, r.DynamoWriteMillion)
	pr.add(res, "usage", reads/1e6*r.DynamoReadMillion, "%.4g M reads x $%g/M", reads/1e6, r.DynamoReadMillion)
	gb := u["dynamoStorageGB"] / float64(len(tables))
	pay, note := pr.billable("dynamoStorageGb", gb)
	pr.add(res, "usage", pay*r.DynamoStorageGbMonth, "%g GB x $%g/GB-month%s", gb, r.DynamoStorageGbMonth, note)
	if in(res, "pointInTimeRecovery", "enabled") == true {
		pr.add(res, "usage", gb*r.DynamoPitrGbMonth, "point-in-time recovery: %g GB x $%g/GB-month", gb, r.DynamoPitrGbMonth)
	}
}

// cdnHit is the share of static bytes Cloudflare serves from its cache: none before it is in
// front.
func (pr *pricer) cdnHit() float64 {
	for _, rec := range pr.ofType("cloudflare:index/record:Record") {
		if in(rec, "proxied") == true {
			return pr.u["cdnHitRatio"]
		}
	}
	return 0
}

// certificates says what TLS costs: nothing. ACM's public certificates are free (ACM pricing:
// "Public SSL/TLS certificates provisioned through AWS Certificate Manager are free"), and so are
// Let's Encrypt's, which the box obtains itself (tls/domain published).
func (pr *pricer) certificates() {
	var from []string
	if len(pr.ofType("aws:acm/certificate:Certificate")) > 0 {
		from = append(from, "ACM (the load balancer's or the API's)")
	}
	for _, r := range pr.ofType("aws:ssm/parameter:Parameter") {
		if strings.HasSuffix(str(in(r, "name")), "/tls/domain") {
			from = append(from, "Let's Encrypt (the box's, obtained on the box)")
		}
	}
	if len(from) > 0 {
		pr.notes["tls"] = "HTTPS adds nothing to the monthly cost: the certificates come from " + strings.Join(from, " and ") + ": public certificates cost nothing."
	}
}

// edge adds what Cloudflare costs beyond its free plan: Advanced Certificate Manager when a
// proxied hostname lies two labels or more below its zone, which Universal SSL does not cover.
func (pr *pricer) edge() {
	for _, rec := range pr.ofType("cloudflare:index/record:Record") {
		name := str(in(rec, "name"))
		zone, _ := pr.p.Outputs["cloudflareZone"].(string)
		if in(rec, "proxied") != true || stacks.LabelsBelowZone(name, zone) < 2 {
			continue
		}
		price := pr.g["cloudflareAdvancedCertificateManagerMonth"]
		pr.add(rec, "fixed", price, "Cloudflare Advanced Certificate Manager: %s is two labels below its zone, past the free Universal SSL certificate; $%g/month", name, price)
		pr.notes["cloudflare"] = "Priced at the free plan. Universal SSL covers the zone's apex and one label below it (*.example.com); " +
			name + " needs Advanced Certificate Manager. The zone is the hostname's registrable domain by the Public Suffix List, or llama:cloudflareZone."
		return
	}
}

// dataOut adds the bytes the stack sends to the internet, on the resource that sends them: the
// box (its responses and its static files), the load balancer (the app's responses and the
// static files the app reads from the bucket), or the API (the function's responses, and the
// SPA's files where it serves them). The buckets send nothing out: the app and the function
// read them in the region, through the free S3 gateway endpoint. Cloudflare's cache hits never
// reach the origin.
func (pr *pricer) dataOut() {
	r := pr.r
	dynamic, static := pr.originGB()
	out := func(res *offlineResource, gb float64, what string) {
		pay, note := pr.billable("dataOutGb", gb)
		c, crossed := tiered(pay, r.DataOutGb, pr.tiers["dataOut"])
		basis := "%.0f GB %s out to the internet x $%g/GB" + strings.ReplaceAll(note, "%", "%%")
		if crossed > 0 {
			basis += fmt.Sprintf(" for the first 10 TB, less past it (%d tier(s) more)", crossed)
		}
		pr.add(res, "usage", c, basis, gb, what, r.DataOutGb)
	}
	what := "of responses and static files"
	if hit := pr.cdnHit(); hit > 0 && static > 0 {
		what = fmt.Sprintf("of responses and static files (%.0f%% of static bytes served from Cloudflare's cache)", 100*hit)
	} else if static == 0 {
		what = "of API responses"
	}
	for _, typ := range []string{"aws:lb/loadBalancer:LoadBalancer", "aws:apigatewayv2/api:Api", "aws:ec2/instance:Instance"} {
		if front := pr.ofType(typ); len(front) > 0 {
			out(front[0], dynamic+static, what)
			return
		}
	}
}
