package stacks

// Key declares one `llama:` config key. Pulumi.yaml declares the same keys with the same types and
// defaults; a test holds the two together.
type Key struct {
	Name        string // without the llama: namespace
	Type        string // Pulumi.yaml type: string, integer or boolean
	Default     string // "" means no default (the key is optional or follows another)
	Description string
}

// Keys is every config key the program reads.
var Keys = []Key{
	{"stage", "string", "single-box", "Rung of the ladder: servers: single-box, separate-db, load-balanced, replicas, cache, cdn, sharded, nosql; serverless: serverless, replicas, cache, cdn, sharded, nosql."},
	{"platform", "string", "servers", "Which ladder: servers (traditional build-out) or serverless (Lambda + API Gateway + Aurora Serverless v2)."},
	{"protect", "boolean", "true", "Protect stateful resources (pulumi protect, deletion protection). Turn off only on throwaway dev stacks."},
	{"vpcCidr", "string", "10.0.0.0/16", "The VPC's IPv4 range; must be a /16."},
	{"azCount", "integer", "2", "Availability zones to spread over: at least 2, at most what the region offers."},
	{"natMode", "string", "per-az", "NAT gateways for the private subnets: per-az (one per AZ, survives an AZ outage) or single (cheaper)."},
	{"instanceType", "string", "t3.small", "EC2 instance type of the box and of the fleet; its architecture (Graviton families such as t4g are arm64) picks the AMI and the app's build."},
	{"appPackage", "string", "./cmd/llama-app", "Go package of this repository the stack builds and runs on every rung: under systemd behind nginx on the box and the fleet, as the Lambda function on the serverless ladder."},
	{"logRetentionDays", "integer", "90", "Retention of every log group the stack creates (a value CloudWatch accepts)."},
	{"certificateArn", "string", "", "ACM certificate for the load balancer's HTTPS listener (and then HTTP redirects to HTTPS). From cdn on, one is issued and validated through Cloudflare when this is empty."},
	{"minServers", "integer", "2", "Fleet minimum size (load-balanced on)."},
	{"desiredServers", "integer", "2", "Fleet desired size: min <= desired <= max."},
	{"maxServers", "integer", "6", "Fleet maximum size: at least 2."},
	{"dbEngineVersion", "string", "16", "RDS PostgreSQL major version; minor versions upgrade automatically in the maintenance window."},
	{"dbInstanceClass", "string", "db.t4g.medium", "RDS instance class of the primary and its replicas."},
	{"dbStorageGb", "integer", "20", "Initial gp3 storage of the primary in GiB (20..65536)."},
	{"dbMaxStorageGb", "integer", "200", "Storage autoscaling ceiling in GiB (above dbStorageGb)."},
	{"dbMultiAz", "string", "", "Multi-AZ primary: true or false; empty follows llama:protect (on outside dev)."},
	{"backupRetentionDays", "integer", "7", "Automated backup retention of databases, 1..35 days (replicas need backups on)."},
	{"slowQueryMs", "integer", "500", "Statements slower than this many milliseconds are logged (log_min_duration_statement) and counted as slow queries."},
	{"replicas", "integer", "2", "RDS read replicas (servers) or Aurora readers (serverless) from the replicas rung on, 0..15."},
	{"cacheEngine", "string", "valkey", "ElastiCache engine: valkey or redis."},
	{"cacheNodeType", "string", "cache.t4g.small", "ElastiCache node type."},
	{"cacheNodes", "integer", "2", "Cache nodes (primary plus replicas), 2..6: failover needs at least 2."},
	{"cloudflareZoneId", "string", "", "Cloudflare zone ID (32 hex characters); required from the cdn rung on."},
	{"domain", "string", "", "The app's hostname inside the Cloudflare zone, e.g. app.example.com; required from the cdn rung on."},
	{"shards", "integer", "2", "Aurora clusters, one per shard, from the sharded rung on: 1..64; 0 on the nosql rung takes the NoSQL offload without sharding. Lowering it deletes shards (refused while protected)."},
	{"shardReaders", "integer", "1", "Reader instances per shard, 0..15."},
	{"shardInstanceClass", "string", "db.r6g.large", "Instance class of the provisioned Aurora shards (servers ladder)."},
	{"tables", "string", "activity:userId:createdAt:expiresAt", "DynamoDB tables, comma-separated, each name:partitionKey[:sortKey[:ttlAttribute]]."},
	{"minAcu", "string", "0.5", "Aurora Serverless v2 minimum capacity in ACUs: 0..256 in 0.5 steps."},
	{"maxAcu", "string", "8", "Aurora Serverless v2 maximum capacity in ACUs: 1..256 in 0.5 steps, at least minAcu."},
	{"lambdaMemory", "integer", "512", "Lambda memory in MB: 128..10240."},
	{"lambdaTimeout", "integer", "10", "Lambda timeout in seconds: 1..29 (the HTTP API's integration limit is 30)."},
	{"dbClusterQuota", "integer", "40", "The region's RDS quota of DB clusters for the account (40 by default; raise it in Service Quotas first): the plan refuses a stage that needs more."},
	{"dbInstanceQuota", "integer", "40", "The region's RDS quota of DB instances for the account, Aurora's included (40 by default; raise it in Service Quotas first): the plan refuses a stage that needs more."},
	{"alertEmail", "string", "", "Email address subscribed to the alarm topic; none when empty."},
	{"latencyP95Ms", "integer", "1000", "Alarm when the app's p95 response time stays above this many milliseconds."},
	{"errorRatePercent", "integer", "5", "Alarm when the app's 5xx error rate stays above this percentage."},
	{"dbLatencyP95Ms", "integer", "50", "Alarm when a database's p95 read or write latency stays above this many milliseconds."},
	{"dbConnectionsPercent", "integer", "80", "Alarm when database connections exceed this percentage of the instance's limit."},
	{"replicaLagSeconds", "integer", "30", "Alarm when a replica lags the primary by more than this many seconds."},
	{"cacheMemoryPercent", "integer", "80", "Alarm when cache memory use exceeds this percentage."},
}

// KeyNamed returns the declaration of a key.
func KeyNamed(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}
