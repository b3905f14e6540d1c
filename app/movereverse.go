package app

import (
	"context"
	"log/slog"
	"maps"
	"time"
)

// reverser keeps the old tier current from a switch until the retire `pulumi up`: it applies
// the changes the app makes on the new stores to the old ones (reverse replication), so that
// `llama-app move <tier> --back` finds the old tier a moment behind, not hours. One instance
// applies at a time: the one that holds the move's advisory lock, which a running mover holds
// too. Activity needs none: the app writes it to PostgreSQL as well until the retire.
type reverser struct {
	env    Env
	src    Source
	log    *slog.Logger
	links  map[string]*link
	params map[string]string // the parameters the links were opened for
	warned time.Time
}

// step applies what the new stores hold that the old ones do not yet, for each switched tier.
func (r *reverser) step(ctx context.Context, t *tiers) {
	if !maps.Equal(r.params, t.params) {
		r.close()
		r.params = t.params
	}
	for _, tier := range t.view.reverse {
		if tier == TierActivity {
			continue
		}
		if err := r.apply(ctx, tier); err != nil && time.Since(r.warned) > time.Minute {
			r.warned = time.Now()
			r.log.Warn("keeping the old tier current", "tier", tier, "err", err)
		}
	}
}

// apply drains one tier's reverse log under the move's lock, if no one else holds it.
func (r *reverser) apply(ctx context.Context, tier string) error {
	l := r.links[tier]
	if l == nil {
		var err error
		if l, err = openLink(ctx, r.src, r.env, r.params, tier); err != nil {
			return err
		}
		if r.links == nil {
			r.links = map[string]*link{}
		}
		r.links[tier] = l
	}
	c, err := l.old[0].db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var ok bool
	if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, moveLock(tier)).Scan(&ok); err != nil || !ok {
		return err
	}
	defer c.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, moveLock(tier))
	for pass := 0; pass < 50; pass++ {
		n, err := l.drain(ctx, back, 2000)
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

func (r *reverser) close() {
	for _, l := range r.links {
		l.close()
	}
	r.links = nil
}
