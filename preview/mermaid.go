package preview

import (
	"fmt"
	"strings"

	"github.com/llama-stages/llama/offline"
)

// Mermaid renders the stage's architecture as a Mermaid flowchart, derived from the recorded
// graph: each box is there because resources of its kind are.
func Mermaid(p *offline.Plan) string {
	count := map[string]int{}
	replicas := 0
	for _, r := range p.Resources {
		if !r.Custom {
			continue
		}
		count[r.Type]++
		if r.Type == "aws:rds/instance:Instance" {
			if src, _ := r.Inputs["replicateSourceDb"].(string); src != "" {
				replicas++
			}
		}
	}
	primaries := count["aws:rds/instance:Instance"] - replicas
	has := func(t string) bool { return count[t] > 0 }
	var b strings.Builder
	fmt.Fprintf(&b, "flowchart LR\n")
	edge := func(from, to string) { fmt.Fprintf(&b, "  %s --> %s\n", from, to) }
	node := func(id, label string) { fmt.Fprintf(&b, "  %s[\"%s\"]\n", id, label) }
	node("users", "Users")
	front := "users"
	if has("cloudflare:index/record:Record") {
		node("cdn", "Cloudflare CDN")
		edge("users", "cdn")
		front = "cdn"
	}
	var app string
	switch {
	case has("aws:lb/loadBalancer:LoadBalancer"):
		node("lb", "Application Load Balancer")
		node("fleet", "Auto Scaling fleet")
		edge(front, "lb")
		edge("lb", "fleet")
		app = "fleet"
	case has("aws:apigatewayv2/api:Api"):
		node("api", "API Gateway HTTP API")
		node("fn", fmt.Sprintf("Lambda functions x%d", count["aws:lambda/function:Function"]))
		edge(front, "api")
		edge("api", "fn")
		app = "fn"
	case has("aws:ec2/instance:Instance"):
		node("box", "EC2 box: app + PostgreSQL + static files")
		edge(front, "box")
		app = "box"
	}
	bucket := func(name string) bool {
		for _, r := range p.Resources {
			if r.Type == "aws:s3/bucketV2:BucketV2" && r.Name == name {
				return true
			}
		}
		return false
	}
	if bucket("release-bucket") {
		node("release", "S3 app builds")
		edge("release", app)
	}
	if bucket("static") || bucket("spa") {
		label := "S3 static assets"
		if has("aws:apigatewayv2/api:Api") {
			label = "S3 single-page app"
		}
		node("static", label)
		edge(front, "static")
	}
	if has("aws:elasticache/replicationGroup:ReplicationGroup") {
		node("cache", "ElastiCache read-through cache")
		edge(app, "cache")
	}
	if has("aws:rds/proxy:Proxy") {
		node("proxy", "RDS Proxy")
		edge(app, "proxy")
	}
	dbFrom := app
	if has("aws:rds/proxy:Proxy") {
		dbFrom = "proxy"
	}
	clusters := count["aws:rds/cluster:Cluster"]
	if primaries > 0 {
		node("db", "RDS PostgreSQL primary")
		edge(app, "db")
		if replicas > 0 {
			node("replicas", fmt.Sprintf("Read replicas x%d", replicas))
			edge("db", "replicas")
			edge(app, "replicas")
		}
	}
	if has("aws:rds/proxy:Proxy") && clusters > 0 {
		readers := -1 // the writer
		for _, r := range p.Resources {
			if r.Type == "aws:rds/clusterInstance:ClusterInstance" && strings.HasPrefix(r.Name, "database-") {
				readers++
			}
		}
		label := "Aurora Serverless v2 writer"
		if readers > 0 {
			label += fmt.Sprintf(" + %d readers", readers)
		}
		node("aurora", label)
		edge(dbFrom, "aurora")
		clusters--
	}
	if clusters > 0 {
		node("shards", fmt.Sprintf("Aurora shards x%d (by user ID)", clusters))
		edge(app, "shards")
	}
	if n := count["aws:dynamodb/table:Table"]; n > 0 {
		node("tables", fmt.Sprintf("DynamoDB tables x%d", n))
		edge(app, "tables")
	}
	if has("aws:ebs/volume:Volume") && !has("aws:ec2/instance:Instance") {
		node("vol", "Retired box's PostgreSQL volume (retained)")
	}
	return b.String()
}
