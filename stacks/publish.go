package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/cache"
	"github.com/llama-stages/llama/components/compute"
	"github.com/llama-stages/llama/components/database"
	"github.com/llama-stages/llama/components/nosql"
	"github.com/llama-stages/llama/contract"
)

// The parameters the app reads (under llama:<stack>'s prefix, /llama/<stack>/...), named in
// package contract (whose table docs/app.md shows), and the stack outputs are this program's
// contract: the
// components know nothing of them. Each database publishes under db/: the app follows
// db/primary/endpoint from one rung to the next without a redeploy.

// publishLocalDB: Llama 1.0's database is the box's own PostgreSQL, on loopback.
func publishLocalDB(p *published, box *compute.Box) {
	p.settings[contract.DBPrimaryEndpoint] = pulumi.String(compute.LocalDBHost)
	p.settings[contract.DBPort] = pulumi.String(fmt.Sprint(compute.LocalDBPort))
	p.settings[contract.DBName] = pulumi.String(compute.LocalDBName)
	p.settings[contract.DBUser] = pulumi.String(compute.LocalDBUser)
	p.settings[contract.DBSecretArn] = box.DBSecretArn
	p.settings[contract.DBSSLMode] = pulumi.String("disable") // loopback
	// The box grants its role read of these credentials itself, before it boots.
}

// publishPostgres: the RDS primary and its replicas, under next/ while the box's data moves to
// it (the box's own PostgreSQL stays the current one until llama:moved holds db).
func publishPostgres(p *published, db *database.Postgres, prefix, sslmode string) {
	p.settings[prefix+contract.DBPrimaryEndpoint] = db.Address
	publishSignIn(p, prefix, database.MasterUser, db.SecretArn, sslmode)
	for i, r := range db.ReplicaEndpoints {
		p.settings[prefix+contract.DBReplica(i)] = r
	}
	p.outs["dbEndpoint"], p.outs["dbPort"], p.outs["dbName"], p.outs["dbSecretArn"] = db.Address, pulumi.Int(database.Port), pulumi.String(database.DatabaseName), db.SecretArn
	p.outs["dbReaderEndpoints"] = db.ReaderEndpoints
	p.secrets = append(p.secrets, db.SecretArn)
}

// publishSignIn: how the app signs in to a managed database (RDS or Aurora), under prefix: its
// port, database, user, the secret holding the credentials (nil: the user signs in with IAM and
// holds no secret), and TLS, which rds.force_ssl makes required: sslmode (stage.sslMode) says
// whether the app also verifies the server's certificate.
func publishSignIn(p *published, prefix, user string, secretArn pulumi.StringInput, sslmode string) {
	p.settings[prefix+contract.DBPort] = pulumi.Sprintf("%d", database.Port)
	p.settings[prefix+contract.DBName] = pulumi.String(database.DatabaseName)
	p.settings[prefix+contract.DBUser] = pulumi.String(user)
	if secretArn != nil {
		p.settings[prefix+contract.DBSecretArn] = secretArn
	} else {
		p.settings[prefix+contract.DBAuth] = pulumi.String("iam")
	}
	p.settings[prefix+contract.DBSSLMode] = pulumi.String(sslmode)
}

// publishAurora: an Aurora cluster as the database, under prefix. With a proxy, the clients'
// security group reaches the proxy alone: publish what they can reach (the cluster's endpoints
// stay stack outputs, for operators). With iamUser, clients sign in to the writer as that user
// with IAM, and hold no secret.
func publishAurora(p *published, prefix string, a *database.Aurora, sslmode, iamUser string) {
	if !a.Proxied {
		p.settings[prefix+contract.DBPrimaryEndpoint] = a.Endpoint
		p.settings[prefix+contract.DBReaderEndpoint] = a.ReaderEndpoint
	}
	if iamUser != "" {
		publishSignIn(p, prefix, iamUser, nil, sslmode)
	} else {
		publishSignIn(p, prefix, database.MasterUser, a.SecretArn, sslmode)
	}
	p.outs["dbEndpoint"], p.outs["dbReaderEndpoint"], p.outs["dbSecretArn"] = a.Endpoint, a.ReaderEndpoint, a.SecretArn
	if a.Proxied {
		// Clients reach the cluster through the proxy, signing in with IAM; the read-only
		// endpoint only when there are readers to read from.
		p.settings[prefix+contract.DBProxyEndpoint] = a.ProxyEndpoint
		p.outs["dbProxyEndpoint"] = a.ProxyEndpoint
		if a.Readers > 0 {
			p.settings[prefix+contract.DBProxyReadEndpoint] = a.ProxyReadEndpoint
			p.outs["dbProxyReadEndpoint"] = a.ProxyReadEndpoint
		}
	}
}

// publishCache: the cache's endpoints and its auth token's secret.
func publishCache(p *published, c *cache.Cache) {
	p.settings[contract.CachePrimaryEndpoint] = c.PrimaryEndpoint
	p.settings[contract.CacheReaderEndpoint] = c.ReaderEndpoint
	p.settings[contract.CachePort] = pulumi.Sprintf("%d", cache.Port)
	p.settings[contract.CacheAuthSecretArn] = c.SecretArn
	p.settings[contract.CacheTLS] = pulumi.String("true")
	p.outs["cachePrimaryEndpoint"], p.outs["cacheReaderEndpoint"] = c.PrimaryEndpoint, c.ReaderEndpoint
	p.secrets = append(p.secrets, c.SecretArn)
}

// ShardRule is how the app maps a user to a shard.
const ShardRule = "shard = userId mod shardCount (userId as a 64-bit integer); growing shardCount moves the users whose shard changes (llama-app move shards)"

// NextPrefix is where a new tier is published beside the current one while its move runs
// (next/db/primary/endpoint); the app reads it through the mover's record (moves/<tier>).
const NextPrefix = contract.Next

// nextIf is NextPrefix while a tier's move is pending.
func nextIf(pending bool) string {
	if pending {
		return NextPrefix
	}
	return ""
}

// publishShards: the shard map, one parameter per entry (the whole map outgrows SSM's 8 KB
// past about 30 shards) and as the shardMap output. While a shard move runs, the new map is
// published under next/ and the live one (the first live shards; none before the first move)
// stays current.
func publishShards(p *published, shards []*database.Aurora, live int) {
	if live < len(shards) {
		publishShardMap(p, shards, NextPrefix)
		if live == 0 {
			return
		}
		shards = shards[:live]
	}
	publishShardMap(p, shards, "")
}

func publishShardMap(p *published, shards []*database.Aurora, prefix string) {
	type entry struct {
		Index  int    `json:"index"`
		Writer string `json:"writer"`
		Reader string `json:"reader"`
		Secret string `json:"secretArn"`
	}
	var ends []any
	for i, s := range shards {
		ends = append(ends, s.Endpoint, s.ReaderEndpoint, s.SecretArn)
		p.secrets = append(p.secrets, s.SecretArn)
		p.settings[prefix+contract.Shard(i, "writer")] = s.Endpoint
		p.settings[prefix+contract.Shard(i, "reader")] = s.ReaderEndpoint
		p.settings[prefix+contract.Shard(i, "secretArn")] = s.SecretArn
	}
	p.settings[prefix+contract.ShardsCount] = pulumi.String(fmt.Sprint(len(shards)))
	p.settings[prefix+contract.ShardsRule] = pulumi.String(ShardRule)
	if prefix != "" {
		return // the shardMap output is the live map
	}
	p.outs["shardMap"] = pulumi.All(ends...).ApplyT(func(v []any) (string, error) {
		m := struct {
			Rule   string  `json:"rule"`
			Count  int     `json:"shardCount"`
			Shards []entry `json:"shards"`
		}{Rule: ShardRule, Count: len(v) / 3}
		for i := 0; i < len(v); i += 3 {
			m.Shards = append(m.Shards, entry{Index: i / 3, Writer: fmt.Sprint(v[i]), Reader: fmt.Sprint(v[i+1]), Secret: fmt.Sprint(v[i+2])})
		}
		out, err := json.Marshal(m)
		return string(out), err
	}).(pulumi.StringOutput)
}

// publishTables: the tables' names and key schemas, so the app writes items each table accepts:
// keys are strings, the TTL attribute epoch seconds. SSM refuses empty values: a table without
// a sort key or TTL attribute publishes none.
func publishTables(p *published, t *nosql.Tables, prefix string) {
	p.settings[prefix+contract.TablesNames] = t.Names.ApplyT(func(ns []string) string { return strings.Join(ns, ",") }).(pulumi.StringOutput)
	for i, spec := range t.Specs {
		key := func(field string) string { return prefix + contract.TableKey(spec.Name, field) }
		p.settings[key("name")] = t.TableNames[i]
		p.settings[key("partitionKey")] = pulumi.String(spec.PartitionKey)
		if spec.SortKey != "" {
			p.settings[key("sortKey")] = pulumi.String(spec.SortKey)
		}
		if spec.TTLAttribute != "" {
			p.settings[key("ttlAttribute")] = pulumi.String(spec.TTLAttribute)
		}
	}
	p.outs["tableNames"] = t.Names
}
