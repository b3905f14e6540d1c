// Package stacks holds the stage ladder, the stack's typed configuration and the program that
// assembles a stage from the components.
package stacks

import (
	"fmt"
	"strings"
)

// Platform names a ladder.
type Platform string

// The two ladders.
const (
	Servers    Platform = "servers"
	Serverless Platform = "serverless"
)

// Platforms lists the ladders in the order they are documented.
var Platforms = []Platform{Servers, Serverless}

// Layer is one building block a rung can add to a stack.
type Layer string

// The layers the rungs add. A stage has every layer its rung and the rungs below it add, less
// what a rung retires.
const (
	Network     Layer = "network"      // VPC, subnets, NAT, flow logs, endpoints
	Monitoring  Layer = "monitoring"   // alarm topic, dashboard, alarms
	Box         Layer = "box"          // the single EC2 box with app, PostgreSQL and static files
	Database    Layer = "database"     // RDS for PostgreSQL primary
	Fleet       Layer = "fleet"        // ALB + Auto Scaling Group + static bucket
	Replicas    Layer = "replicas"     // read replicas of the primary
	Cache       Layer = "cache"        // ElastiCache replication group
	CDN         Layer = "cdn"          // Cloudflare in front
	Shards      Layer = "shards"       // Aurora clusters, one a shard
	Tables      Layer = "tables"       // DynamoDB tables
	Functions   Layer = "functions"    // API Gateway + Lambda
	ServerlessD Layer = "serverlessdb" // Aurora Serverless v2 (behind RDS Proxy from the replicas rung)
	SPA         Layer = "spa"          // single-page app bucket
	SPAEdge     Layer = "spa-edge"     // Cloudflare in front of the SPA, wherever a zone is configured
	Hostname    Layer = "hostname"     // the app's record in the Cloudflare zone and its certificates, wherever a domain is configured
)

// Rung is one stage of a ladder.
type Rung struct {
	Platform Platform
	Order    int
	Stage    string
	Guide    string  // the guide's version, "Llama 1.0"
	Adds     string  // what the rung adds, one line
	Promote  string  // when to take this rung, from the guide
	Layers   []Layer // layers the rung adds
	Retires  []Layer // layers the rung retires (their stateful parts stay)
	// Step is what taking the rung asks of the team: what the infrastructure cannot do by
	// itself. "" when nothing.
	Step string
	// Requests is the requests a month of the rung's default traffic profile, after the
	// audience the guide gives it: "hundreds to thousands of users" on one box, "tens of
	// thousands" for the serverless start, "several hundred thousand" with replicas and a
	// cache, millions with shards. The cost model prices the rung at it.
	Requests float64
}

// The steps both ladders share.
const (
	stepReplicas = "The app sends lag-tolerant reads to the replicas (db/replicas/*) within a minute and keeps reads that cannot tolerate lag on the primary; an app of your own must do the same."
	stepCache    = "The app reads through the cache within a minute (TLS, the auth token from cache/authSecretArn); an app of your own must implement read-through: read the cache, fall back to the database, store with a TTL, invalidate on writes."
	stepCDN      = "Make sure the Cloudflare zone serves the domain, upload static assets with long Cache-Control headers, and purge the cache on deploys."
	stepShards   = "An app of your own routes users by the published shard map (shard = userId mod count) once llama-app move shards has switched it; growing the count later is the same move for the users whose shard changes."
	stepTables   = "An app of your own writes the high-write subset to DynamoDB once llama-app move activity has switched it, and to PostgreSQL as well until the retire pulumi up (so the move can go back)."
)

// Ladder is the stage table of both platforms: the one place the rungs are declared.
var Ladder = []Rung{
	{Platform: Servers, Order: 1, Stage: "single-box", Guide: "Llama 1.0",
		Adds:    "VPC; one public EC2 box running app, PostgreSQL (on its own retained, encrypted volume) and static files; Elastic IP; monitoring",
		Promote: "Start here: one box serves hundreds to thousands of users; take the next rung before the box's CPU, memory or disk run out, or when an outage of the one box is no longer acceptable.",
		Layers:  []Layer{Network, Monitoring, Box, Hostname}, Requests: 3e6},
	{Platform: Servers, Order: 2, Stage: "separate-db", Guide: "Llama 2.0",
		Adds:    "Managed PostgreSQL (RDS, Multi-AZ, TLS forced, backups) in isolated subnets, reachable only from the app",
		Promote: "When the database and the app fight over one box's CPU and memory, or a disk failure would lose data: give the data its own managed, backed-up home.",
		Layers:  []Layer{Database}, Requests: 10e6},
	{Platform: Servers, Order: 3, Stage: "load-balanced", Guide: "Llama 3.0",
		Adds:    "Application Load Balancer + Auto Scaling Group over the AZs; static assets in S3; the box retires once its data and traffic have moved (its data volume stays)",
		Promote: "When one web server is a single point of failure or scaling it up no longer buys time: make the web tier stateless and run several behind a load balancer.",
		Layers:  []Layer{Fleet}, Retires: []Layer{Box}, Step: "Upload the static assets to the static bucket (the staticBucket output). The box's PostgreSQL volume stays in the stack after the box retires, retained and protected: delete it by hand once you no longer want it as a fallback.", Requests: 30e6},
	{Platform: Servers, Order: 4, Stage: "replicas", Guide: "Llama 4.0",
		Adds:    "RDS read replicas spread over the AZs; reads that cannot tolerate lag stay on the primary",
		Promote: "When reads dominate and the primary's CPU or read latency climbs: move read load to replicas (accepting replication lag for those reads).",
		Layers:  []Layer{Replicas}, Step: stepReplicas, Requests: 100e6},
	{Platform: Servers, Order: 5, Stage: "cache", Guide: "Llama 5.0",
		Adds:    "ElastiCache (Valkey) replication group for read-through caching: Multi-AZ, failover, TLS, encryption, auth",
		Promote: "When read-heavy spikes (a flash sale) still overload primary and replicas: cache hot data in memory, read-through.",
		Layers:  []Layer{Cache}, Step: stepCache, Requests: 300e6},
	{Platform: Servers, Order: 6, Stage: "cdn", Guide: "Llama 5.0",
		Adds:    "Cloudflare in front: proxied DNS for app and static assets, cache rules, strict TLS; static assets cached from the app; the bucket readable only from Cloudflare's ranges",
		Promote: "When static content (images, bundles, style sheets) dominates traffic or users far away see slow pages: serve it from a CDN near them.",
		Layers:  []Layer{CDN}, Step: stepCDN, Requests: 300e6},
	{Platform: Servers, Order: 7, Stage: "sharded", Guide: "Llama 6.0",
		Adds:    "Aurora PostgreSQL clusters as horizontal shards by user ID, each a writer plus readers; a published shard map",
		Promote: "When writes overload the single primary and vertical scaling is no longer feasible: shard by user ID, accepting cross-shard query limits.",
		Layers:  []Layer{Shards}, Step: stepShards, Requests: 1000e6},
	{Platform: Servers, Order: 8, Stage: "nosql", Guide: "final part",
		Adds:    "DynamoDB tables (on-demand, PITR, encryption, deletion protection) for the high-write, non-relational subset",
		Promote: "When a high-write subset of the data does not rely on the relational model: move it to NoSQL and let the relational database focus on complex queries. With llama:shards=0 it comes instead of sharding.",
		Layers:  []Layer{Tables}, Step: stepTables, Requests: 1000e6},

	{Platform: Serverless, Order: 1, Stage: "serverless", Guide: "part 3",
		Adds:    "SPA bucket, API Gateway HTTP API, Go Lambda functions in private subnets (no NAT: VPC endpoints), Aurora Serverless v2 they sign in to with IAM (no secret; llama:minAcu 0 pauses it when idle), monitoring",
		Promote: "Start here when time to market matters most: no servers to manage, pay per use, scales to tens of thousands of users.",
		Layers:  []Layer{Network, Monitoring, SPA, SPAEdge, ServerlessD, Functions}, Requests: 30e6},
	{Platform: Serverless, Order: 2, Stage: "replicas", Guide: "final part",
		Adds:    "Aurora Serverless v2 reader instances, and RDS Proxy in front, pooling the functions' connections",
		Promote: "When combined read and write traffic starts to overwhelm the serverless writer and reads dominate: add readers.",
		Layers:  []Layer{Replicas}, Step: stepReplicas, Requests: 100e6},
	{Platform: Serverless, Order: 3, Stage: "cache", Guide: "final part",
		Adds:    "ElastiCache (Valkey) reachable from the functions",
		Promote: "When reads still load the database: cache frequently read data in a managed in-memory store.",
		Layers:  []Layer{Cache}, Step: stepCache, Requests: 300e6},
	{Platform: Serverless, Order: 4, Stage: "cdn", Guide: "final part",
		Adds:    "Cloudflare in front of the API and the SPA",
		Promote: "When users far from the region see slow loads, or static traffic costs: serve the SPA and cacheable API responses from the edge.",
		Layers:  []Layer{CDN}, Step: "Make sure the Cloudflare zone serves the domain and point clients at api.<domain>: from here Cloudflare fronts the API as well as the SPA, and purge the cache on deploys.", Requests: 300e6},
	{Platform: Serverless, Order: 5, Stage: "sharded", Guide: "final part",
		Adds:    "Aurora Serverless v2 clusters as shards by user ID, with a shard map",
		Promote: "When writes exceed what one serverless writer can take: shard by user ID.",
		Layers:  []Layer{Shards}, Step: stepShards, Requests: 1000e6},
	{Platform: Serverless, Order: 6, Stage: "nosql", Guide: "final part",
		Adds:    "DynamoDB tables for the high-write subset, the functions' role limited to them",
		Promote: "When a high-write subset does not need the relational model; with llama:shards=0 it comes instead of sharding (the sharded rung is then skipped).",
		Layers:  []Layer{Tables}, Step: stepTables, Requests: 1000e6},
}

// Rungs returns the rungs of one platform in order.
func Rungs(p Platform) []Rung {
	var out []Rung
	for _, r := range Ladder {
		if r.Platform == p {
			out = append(out, r)
		}
	}
	return out
}

// StageNames returns the stage names of one platform in order.
func StageNames(p Platform) []string {
	var out []string
	for _, r := range Rungs(p) {
		out = append(out, r.Stage)
	}
	return out
}

// Find returns the rung of a stage on a platform.
func Find(p Platform, stage string) (Rung, bool) {
	for _, r := range Rungs(p) {
		if r.Stage == stage {
			return r, true
		}
	}
	return Rung{}, false
}

// Layers is the set of layers a stage has.
type Layers map[Layer]bool

// LayersOf returns the layers a stage has: everything its rung and the rungs below add, less
// what they retire.
func LayersOf(p Platform, stage string) (Layers, error) {
	r, ok := Find(p, stage)
	if !ok {
		return nil, fmt.Errorf("stage %q is not on the %s ladder (valid: %s)", stage, p, strings.Join(StageNames(p), ", "))
	}
	ls := Layers{}
	for _, below := range Rungs(p) {
		if below.Order > r.Order {
			break
		}
		for _, l := range below.Layers {
			ls[l] = true
		}
		for _, l := range below.Retires {
			ls[l] = false
		}
	}
	return ls, nil
}

// Retired reports whether a layer was added and later retired at or below a stage: its
// stateful parts stay in the stack.
func Retired(p Platform, stage string, l Layer) bool { return RetiredOf(p, stage)[l] }

// RetiredOf returns the layers retired at or below a stage; none for a stage not on the ladder.
func RetiredOf(p Platform, stage string) Layers {
	out := Layers{}
	r, ok := Find(p, stage)
	if !ok {
		return out
	}
	for _, below := range Rungs(p) {
		if below.Order > r.Order {
			break
		}
		for _, x := range below.Retires {
			out[x] = true
		}
	}
	return out
}

// MovesOf lists the live moves a stage has, in the order a promotion meets them: db where RDS
// arrives on a ladder that had the box, traffic with the fleet, shards and activity with their
// rungs. llama:moved may name these.
func MovesOf(p Platform, stage string) []string {
	ls, err := LayersOf(p, stage)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range Moves {
		// The box's PostgreSQL moves to RDS only where the ladder had the box.
		if ls[m.Layer] && (m.Tier != MoveDB || ls[Box] || Retired(p, stage, Box)) {
			out = append(out, m.Tier)
		}
	}
	return out
}

// Move is one live move as the diff and the runbook describe it: what it moves from and to,
// and where `llama-app move` runs.
type Move struct {
	Tier     string
	Layer    Layer  // the layer whose arrival brings the move
	Old, New string // what the move leaves and what it reaches
	Where    string // where the mover runs
	Expand   string // what the expand pulumi up does
	Retires  string // what the retire pulumi up does
	Cleanup  string // what `llama-app move <tier> --retire` removes; "" when nothing
}

// Moves are the live moves, in the order a promotion meets them.
var Moves = []Move{
	{Tier: MoveDB, Layer: Database, Old: "the box's PostgreSQL", New: "RDS",
		Where:   "on the box (Session Manager: aws ssm start-session --target <boxInstanceId>)",
		Expand:  "Creates RDS beside the box's PostgreSQL and publishes it as next/db/; the app keeps serving from the box's PostgreSQL (move state: expanded).",
		Retires: "RDS becomes db/, and the box stops its PostgreSQL (the data volume stays, retained)"},
	{Tier: MoveTraffic, Layer: Fleet, Old: "the box and its Elastic IP", New: "the load balancer",
		Expand:  "Creates the load balancer and the fleet beside the box; the box and its Elastic IP keep serving.",
		Retires: "the box and its Elastic IP leave the stack (the data volume stays, retained)"},
	{Tier: MoveEdge, Layer: CDN, Old: "the load balancer (on the serverless ladder, the API's execute-api URL) reached directly", New: "Cloudflare",
		Expand:  "Puts Cloudflare in front of the hostname (proxied records); the load balancer (or the API's execute-api URL) keeps answering clients that call it directly.",
		Retires: "the load balancer admits Cloudflare's ranges only (on the serverless ladder, the execute-api endpoint closes and the function requires Cloudflare's origin header)"},
	{Tier: MoveShards, Layer: Shards, Old: "the current shard map (the primary before the first)", New: "the new shard map",
		Where:   "on a fleet instance (Session Manager), or on the serverless ladder a one-off invocation of the function",
		Expand:  "Creates the new shard clusters and publishes the map as next/shards/; every user stays where it is (move state: expanded).",
		Retires: "the new map becomes shards/, and the app stops keeping the old map current",
		Cleanup: "the rows the primary (or a shard) still holds of users who live elsewhere now"},
	{Tier: MoveActivity, Layer: Tables, Old: "PostgreSQL's activity table", New: "the DynamoDB table",
		Where:   "on a fleet instance (Session Manager), or on the serverless ladder a one-off invocation of the function",
		Expand:  "Creates the DynamoDB tables and publishes them as next/tables/; activity is still written to PostgreSQL (move state: expanded).",
		Retires: "the table becomes tables/, and the app stops writing activity to PostgreSQL as well",
		Cleanup: "PostgreSQL's copy of the activity"},
}
