package preview

import (
	"fmt"
	"strings"

	"github.com/llama-stages/llama/offline"
)

// Mermaid renders the stage's architecture as a Mermaid flowchart, derived from the recorded
// graph: each box is there because resources of its kind are.
func Mermaid(p *offline.Plan) string {
	g := newGraph(p)
	g.node("users", "Users")
	front := "users"
	if g.has("cloudflare:index/record:Record") {
		g.node("cdn", "Cloudflare CDN")
		g.edge("users", "cdn")
		front = "cdn"
	}
	app := g.appTier(front)
	g.buckets(front, app)
	g.data(app)
	return g.b.String()
}

// graph is a flowchart being drawn from a plan's resources.
type graph struct {
	p        *offline.Plan
	b        strings.Builder
	count    map[string]int
	replicas int // RDS read replicas
}

func newGraph(p *offline.Plan) *graph {
	g := &graph{p: p, count: map[string]int{}}
	for _, r := range p.Resources {
		if !r.Custom || offline.Unwatched(r) {
			continue // what serves nothing: the deploy's own function
		}
		g.count[r.Type]++
		if src, _ := r.Inputs["replicateSourceDb"].(string); r.Type == "aws:rds/instance:Instance" && src != "" {
			g.replicas++
		}
	}
	g.b.WriteString("flowchart LR\n")
	return g
}

func (g *graph) has(t string) bool     { return g.count[t] > 0 }
func (g *graph) edge(from, to string)  { fmt.Fprintf(&g.b, "  %s --> %s\n", from, to) }
func (g *graph) node(id, label string) { fmt.Fprintf(&g.b, "  %s[\"%s\"]\n", id, label) }
func (g *graph) named(typ, name string) bool {
	for _, r := range g.p.Resources {
		if r.Type == typ && r.Name == name {
			return true
		}
	}
	return false
}

// appTier draws what serves requests behind front, and returns its node.
func (g *graph) appTier(front string) string {
	switch {
	case g.has("aws:lb/loadBalancer:LoadBalancer"):
		g.node("lb", "Application Load Balancer")
		g.node("fleet", "Auto Scaling fleet")
		g.edge(front, "lb")
		g.edge("lb", "fleet")
		return "fleet"
	case g.has("aws:apigatewayv2/api:Api"):
		g.node("api", "API Gateway HTTP API")
		g.node("fn", fmt.Sprintf("Lambda functions x%d", g.count["aws:lambda/function:Function"]))
		g.edge(front, "api")
		g.edge("api", "fn")
		return "fn"
	case g.has("aws:ec2/instance:Instance"):
		g.node("box", "EC2 box: app + PostgreSQL + static files")
		g.edge(front, "box")
		return "box"
	}
	return ""
}

// buckets draws the app's builds and the static assets (or the single-page app).
func (g *graph) buckets(front, app string) {
	const bucket = "aws:s3/bucketV2:BucketV2"
	if g.named(bucket, "release-bucket") {
		g.node("release", "S3 app builds")
		g.edge("release", app)
	}
	if g.named(bucket, "static") || g.named(bucket, "spa") {
		label := "S3 static assets"
		if g.has("aws:apigatewayv2/api:Api") {
			label = "S3 single-page app"
		}
		g.node("static", label)
		g.edge(front, "static")
	}
}

// data draws the stores the app reaches: the cache, the proxy, the databases, the shards, the
// tables, and a retired box's volume.
func (g *graph) data(app string) {
	if g.has("aws:elasticache/replicationGroup:ReplicationGroup") {
		g.node("cache", "ElastiCache read-through cache")
		g.edge(app, "cache")
	}
	clusters := g.count["aws:rds/cluster:Cluster"]
	if primaries := g.count["aws:rds/instance:Instance"] - g.replicas; primaries > 0 {
		g.node("db", "RDS PostgreSQL primary")
		g.edge(app, "db")
		if g.replicas > 0 {
			g.node("replicas", fmt.Sprintf("Read replicas x%d", g.replicas))
			g.edge("db", "replicas")
			g.edge(app, "replicas")
		}
	}
	if g.has("aws:rds/proxy:Proxy") {
		g.node("proxy", "RDS Proxy")
		g.edge(app, "proxy")
	}
	if g.named("aws:rds/cluster:Cluster", "database-cluster") {
		g.serverlessDB(app)
		clusters--
	}
	if clusters > 0 {
		g.node("shards", fmt.Sprintf("Aurora shards x%d (by user ID)", clusters))
		g.edge(app, "shards")
	}
	if n := g.count["aws:dynamodb/table:Table"]; n > 0 {
		g.node("tables", fmt.Sprintf("DynamoDB tables x%d", n))
		g.edge(app, "tables")
	}
	if g.has("aws:ebs/volume:Volume") && !g.has("aws:ec2/instance:Instance") {
		g.node("vol", "Retired box's PostgreSQL volume (retained)")
	}
}

// serverlessDB draws the serverless writer and its readers, behind the proxy where there is
// one, else reached by the app itself.
func (g *graph) serverlessDB(app string) {
	readers := -1 // the writer
	for _, r := range g.p.Resources {
		if r.Type == "aws:rds/clusterInstance:ClusterInstance" && strings.HasPrefix(r.Name, "database-") {
			readers++
		}
	}
	label := "Aurora Serverless v2 writer"
	if readers > 0 {
		label += fmt.Sprintf(" + %d readers", readers)
	}
	g.node("aurora", label)
	if g.has("aws:rds/proxy:Proxy") {
		g.edge("proxy", "aurora")
	} else {
		g.edge(app, "aurora")
	}
}
