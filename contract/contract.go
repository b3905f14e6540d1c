// Package contract names the parameters the stack publishes under /llama/<stack>/ and the app
// reads: the one place both sides take a key's name from, and the table the docs show
// (docs/app.md, generated from Keys).
package contract

import (
	"fmt"
	"strings"
)

// Project is the Pulumi project's name: the config namespace (llama:stage), the URNs' project
// and the first part of the parameter prefix, /llama/<stack>.
const Project = "llama"

// DeployTag is the tag that marks a function the deploy alone invokes (the serverless start's
// bootstrap): the offline catalog neither watches nor prices it.
const DeployTag = "llama:invokedBy"

// The keys, by what they hold.
const (
	DBPrimaryEndpoint   = "db/primary/endpoint"
	DBReaderEndpoint    = "db/reader/endpoint"
	DBProxyEndpoint     = "db/proxy/endpoint"
	DBProxyReadEndpoint = "db/proxy/readEndpoint"
	DBPort              = "db/port"
	DBName              = "db/name"
	DBUser              = "db/user"
	DBSecretArn         = "db/secretArn"
	DBSSLMode           = "db/sslmode"
	DBAuth              = "db/auth"
	DBConnectTimeout    = "db/connectTimeout"

	CachePrimaryEndpoint = "cache/primary/endpoint"
	CacheReaderEndpoint  = "cache/reader/endpoint"
	CachePort            = "cache/port"
	CacheTLS             = "cache/tls"
	CacheAuthSecretArn   = "cache/authSecretArn"

	ShardsCount = "shards/count"
	ShardsRule  = "shards/rule"
	TablesNames = "tables/names"

	StaticBucket     = "static/bucket"
	SPADomain        = "spa/domain"
	SPABucket        = "spa/bucket"
	TLSDomain        = "tls/domain"
	TLSACMEDirectory = "tls/acmeDirectory"

	AppReleaseBucket = "app/release/bucket"
	AppReleaseKey    = "app/release/key"
	AppReleaseSHA256 = "app/release/sha256"

	// Revision is a digest of every other value the stack publishes, written after them.
	Revision = "params/revision"
	// Next is the prefix of a tier published beside the current one while its move runs.
	Next = "next/"
	// Moves is the prefix of the mover's records, one a tier.
	Moves = "moves/"
)

// DBReplica is replica i's endpoint.
func DBReplica(i int) string { return fmt.Sprintf("db/replicas/%d/endpoint", i) }

// Shard is shard i's field: writer, reader or secretArn.
func Shard(i int, field string) string { return fmt.Sprintf("shards/%d/%s", i, field) }

// TableKey is a table's field: name, partitionKey, sortKey or ttlAttribute.
func TableKey(name, field string) string { return "tables/" + name + "/" + field }

// Move is a tier's record.
func Move(tier string) string { return Moves + tier }

// Key is one row of the contract's table: the keys it covers, the rungs that publish them and
// what they hold.
type Key struct {
	Names   []string
	Rungs   string
	Meaning string
}

// Keys is the contract as the docs show it, in the order a reader meets the keys.
var Keys = []Key{
	{[]string{DBPrimaryEndpoint}, "every servers rung; serverless without a proxy", "the primary's host (on the serverless start, the Aurora writer); an endpoint may carry its own port (`127.0.0.1:55433`), which wins over `db/port`"},
	{[]string{DBAuth}, "serverless without a proxy", "`iam`: the app signs in to `db/primary/endpoint` as `db/user` with an RDS IAM token (no secret; the deploy created the user and applied the schema); absent: the secret"},
	{[]string{DBPort, DBName, DBUser}, "every rung", "`5432`, `llama`, the user (a secret's `username` wins)"},
	{[]string{DBSecretArn}, "every rung but the serverless start", "the secret holding the database credentials"},
	{[]string{DBConnectTimeout}, "serverless start at `llama:minAcu` 0", "seconds a connection may take: a paused writer answers once it has resumed (about 15 s); absent: 3"},
	{[]string{DBSSLMode}, "every rung", "`verify-full` on RDS and Aurora (TLS is forced; the app checks the server's certificate and name against the RDS certificate authorities it carries, [`app/rdsca`](../app/rdsca), and through RDS Proxy against the system's roots, the proxy's certificate being ACM's); `require` in a region the carried bundle has no root for, which the plan warns of; `disable` on the box's loopback; absent: `require`, or `disable` on loopback"},
	{[]string{"db/replicas/<i>/endpoint"}, "`replicas` on", "each read replica"},
	{[]string{DBReaderEndpoint}, "serverless shards", "an Aurora cluster's reader endpoint where no proxy stands in front"},
	{[]string{DBProxyEndpoint, DBProxyReadEndpoint}, "serverless, `replicas` on", "RDS Proxy (IAM sign-in); the read-only endpoint when there are readers"},
	{[]string{CachePrimaryEndpoint, CacheReaderEndpoint, CachePort}, "`cache` on", "the replication group"},
	{[]string{CacheTLS, CacheAuthSecretArn}, "`cache` on", "`true`; the secret holding the auth token"},
	{[]string{ShardsCount, ShardsRule}, "`sharded` on", "the number of shards; `shard = userId mod shardCount`"},
	{[]string{"shards/<i>/writer", "shards/<i>/reader", "shards/<i>/secretArn"}, "`sharded` on", "each shard's endpoints and credentials"},
	{[]string{TablesNames}, "`nosql` on", "the tables' names, comma-separated"},
	{[]string{"tables/<table>/name", "partitionKey", "sortKey", "ttlAttribute"}, "`nosql` on", "each table's key schema (string keys; the TTL attribute holds epoch seconds); a missing sort key or TTL means none"},
	{[]string{StaticBucket}, "`load-balanced` on", "the static assets' bucket, which the app serves under `/static/`"},
	{[]string{SPADomain, SPABucket}, "serverless, with a zone", "the SPA's hostname and its bucket: the function answers that hostname from the bucket"},
	{[]string{TLSDomain, TLSACMEDirectory}, "the box, with a domain", "the hostname the box keeps a certificate for (`llama-app tls`) and the ACME directory it asks"},
	{[]string{AppReleaseBucket, "key", "sha256"}, "servers", "the build the box runs (it checks every minute)"},
	{[]string{Next + "<key>"}, "while a move runs", "the new tier beside the current one (`next/db/primary/endpoint`, `next/shards/count`, `next/tables/names`): the app serves from it once the move's record says switched"},
	{[]string{Revision}, "every rung", "a digest of every other value the stack publishes, written after them: while it stays the same, the app's refresh reads it and the `moves/` records only (two calls, however many shards), not every page of parameters; SSM reads are retried with backoff, and a failed refresh keeps the last good values"},
	{[]string{Moves + "<tier>"}, "written by `llama-app move`", "the move's record: state, generation, rows, write pause; the app follows it, `pulumi up` checks it before a retire"},
}

// Table renders Keys as the docs' table.
func Table() string {
	var b strings.Builder
	b.WriteString("| key | rung | value |\n|---|---|---|\n")
	for _, k := range Keys {
		names := make([]string, len(k.Names))
		for i, n := range k.Names {
			names[i] = "`" + n + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.Join(names, ", "), k.Rungs, k.Meaning)
	}
	return b.String()
}
