package stacks

import (
	"maps"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/cdn"
	"github.com/llama-stages/llama/components/params"
)

// published is what a step makes for the app and the stack: parameters the app reads, stack
// outputs, secrets the app is pointed at (and so may read), further access it needs, and the
// hostnames Cloudflare should serve.
type published struct {
	settings params.Values
	outs     pulumi.Map
	secrets  pulumi.StringArray
	grants   []grant
	hosts    []cdn.Host
}

type grant struct {
	name  string
	stmts []access.Statement
}

func newPublished() published { return published{settings: params.Values{}, outs: pulumi.Map{}} }

// add takes in what another step made.
func (p *published) add(q published) {
	if p.settings == nil {
		*p = newPublished()
	}
	maps.Copy(p.settings, q.settings)
	maps.Copy(p.outs, q.outs)
	p.secrets = append(p.secrets, q.secrets...)
	p.grants = append(p.grants, q.grants...)
	p.hosts = append(p.hosts, q.hosts...)
}

// step is one layer's build step, its inputs bound.
type step func() (published, error)

// run runs steps in order and gathers what they made.
func run(steps ...step) (published, error) {
	out := newPublished()
	for _, st := range steps {
		p, err := st()
		if err != nil {
			return out, err
		}
		out.add(p)
	}
	return out, nil
}

// build runs the steps of the layers the stage has, in the order they depend on each other:
// the foundation first, then the app tier and the data it reaches, the edge in front, and
// last the grants and parameters that tie the app to what was built. Every step is given the
// values it needs and returns what it made.
func (s *stage) build() (pulumi.Map, error) {
	base, out, err := s.foundation()
	if err != nil {
		return nil, err
	}
	app, tier, err := s.appTier(base)
	if err != nil {
		return nil, err
	}
	out.add(tier)
	data, err := run(
		func() (published, error) { return s.cache(base) },
		func() (published, error) { return s.shards(base) },
		func() (published, error) { return s.tables(base) },
	)
	if err != nil {
		return nil, err
	}
	out.add(data)
	edge, err := s.edge(out.hosts)
	if err != nil {
		return nil, err
	}
	out.add(edge)
	return s.finish(base, app, out)
}

// appTier builds what runs the app and the database it starts on: the box, the database and
// the fleet on the servers ladder; the SPA, the serverless database and the functions on the
// serverless one. It returns the identity the app runs as.
func (s *stage) appTier(base foundation) (access.Grantee, published, error) {
	if s.keeps(Box) || s.has(Fleet) {
		host, pub, err := s.appHost()
		if err != nil {
			return nil, pub, err
		}
		more, err := run(
			func() (published, error) { return s.box(base, host) },
			func() (published, error) { return s.postgres(base) },
			func() (published, error) { return s.fleet(base, host) },
		)
		pub.add(more)
		return host.role, pub, err
	}
	site, pub, err := s.spa(base)
	if err != nil || !s.has(ServerlessD) {
		return nil, pub, err
	}
	db, dbPub, err := s.serverlessDB(base)
	pub.add(dbPub)
	if err != nil || !s.has(Functions) {
		return nil, pub, err
	}
	api, apiPub, err := s.functions(base, db, site, pub.settings)
	pub.add(apiPub)
	return api, pub, err
}
