package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// MoveUsage is `llama-app move --help`.
const MoveUsage = `usage: llama-app move <tier> [--back | --retire] [--batch N]
       llama-app move status

Moves a tier of a live app to the store the expand ` + "`pulumi up`" + ` published under next/, while the
app keeps serving: copy, catch up, verify (row counts and checksums per table and shard),
fence the old store, drain the last changes and switch. Run it where the network reaches both
stores (Session Manager on the box or a fleet instance). It resumes where it stopped and prints
one JSON line at the end; it exits 0 only when the switch is verified.

tiers:
  db        the box's PostgreSQL -> RDS (or Aurora)
  shards    the primary -> the shard clusters, or a shard count that grows (users whose
            shard changes move)
  activity  PostgreSQL -> DynamoDB

  --back    switch back to the old tier (from the switch until the retire pulumi up): the old
            tier was kept current, so nothing written since the switch is lost
  --retire  after the retire pulumi up (llama:moved): remove the move's change capture and
            the rows the old tier still holds of moved users
  --batch N rows per copy and catch-up step (default 5000)

status     one JSON object per tier with a move under way: state, replication lag each way,
           rows per table on each side, and the next command
`

// MoveCommand runs `llama-app move ...` and returns the exit status: 0 done and verified, 1
// failed, 2 bad usage.
func MoveCommand(ctx context.Context, args []string, src Source, rec Recorder, env Env, stdout, stderr io.Writer) int {
	if len(args) == 0 || slices.Contains([]string{"-h", "--help", "help"}, args[0]) {
		fmt.Fprint(stdout, MoveUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "status" {
		return statusCommand(ctx, src, env, stdout, stderr)
	}
	tier := args[0]
	if !slices.Contains(Tiers, tier) {
		fmt.Fprintf(stderr, "llama-app move: no tier %q; the tiers are %s\n", tier, strings.Join(Tiers, ", "))
		return 2
	}
	fs := flag.NewFlagSet("move", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o MoveOptions
	fs.BoolVar(&o.Back, "back", false, "switch back to the old tier")
	fs.BoolVar(&o.Retire, "retire", false, "after the retire pulumi up: remove what the move left")
	fs.IntVar(&o.Batch, "batch", 5000, "rows per step")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if o.Back && o.Retire {
		fmt.Fprintln(stderr, "llama-app move: --back and --retire exclude each other")
		return 2
	}
	o.Progress = stderr
	res, err := Move(ctx, src, rec, env, tier, o)
	if err != nil {
		fmt.Fprintf(stderr, "llama-app move %s: %v\n", tier, err)
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	if err != nil || !res.Verified {
		return 1
	}
	return 0
}

// TierStatus is one tier's move as `llama-app move status` shows it.
type TierStatus struct {
	Tier  string `json:"tier"`
	State string `json:"state"`
	Gen   int    `json:"gen"`
	// Lag is the changes captured and not yet applied: forward (old -> new) and back.
	Lag  map[string]int64            `json:"lag"`
	Rows map[string]map[string]int64 `json:"rows"` // "old" and "new": rows per table
	Next string                      `json:"next"` // the command or config change to run next
	Undo string                      `json:"undo,omitempty"`
}

// Status reports every tier with a move under way (next/ keys published, or a record that is
// not retired).
func Status(ctx context.Context, src Source, env Env) ([]TierStatus, error) {
	params, err := src.Params(ctx)
	if err != nil {
		return nil, err
	}
	var out []TierStatus
	for _, tier := range Tiers {
		r, ok, err := readRecord(params, tier)
		if err != nil {
			return nil, err
		}
		next := hasNext(params, tier)
		if !next && (!ok || r.State == StateRetired) {
			continue
		}
		state := orExpanded(r.State)
		if next && (state == StateRetired || ((state == StateSwitched || state == StateBack) && r.Target != "" && r.Target != target(params, tier))) {
			state = StateExpanded // a new move: the record is of an earlier one
		}
		st := TierStatus{Tier: tier, State: state, Gen: r.Gen, Lag: map[string]int64{"forward": 0, "back": 0},
			Rows: map[string]map[string]int64{}}
		st.Next, st.Undo = nextStep(tier, st.State, next, params)
		if next {
			if err := st.measure(ctx, src, env, params); err != nil {
				return nil, err
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// measure fills in the lag and the rows on each side.
func (st *TierStatus) measure(ctx context.Context, src Source, env Env, params map[string]string) error {
	l, err := openLink(ctx, src, env, params, st.Tier)
	if err != nil {
		return err
	}
	defer l.close()
	side := func(name string, stores []*pgStore, lag string) error {
		st.Rows[name] = map[string]int64{}
		for _, s := range stores {
			n, err := s.pending(ctx, st.Tier)
			if err != nil {
				return err
			}
			st.Lag[lag] += n
			for _, t := range l.tables {
				c, err := s.count(ctx, t)
				if err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				st.Rows[name][t.name] += c
			}
		}
		return nil
	}
	if err := side("old", l.old, "forward"); err != nil {
		return err
	}
	if l.dyn != nil {
		a, err := l.dyn.checksum(ctx)
		if err != nil {
			return err
		}
		st.Rows["new"] = map[string]int64{"activity": a.rows}
		if st.State == StateSwitched {
			st.Lag["forward"] = 0 // PostgreSQL's entries since the switch are in DynamoDB already
		}
		return nil
	}
	if err := side("new", l.new, "back"); err != nil {
		return err
	}
	if st.State != StateSwitched {
		st.Lag["back"] = 0 // nothing writes the new stores before the switch
	}
	return nil
}

// nextStep names what to run next in a state, and how to undo where that is possible.
func nextStep(tier, state string, next bool, params map[string]string) (string, string) {
	move := "llama-app move " + tier
	switch {
	case state == StateSwitched && next:
		var moved []string
		for _, t := range Tiers {
			if r, ok, _ := readRecord(params, t); ok && (r.State == StateSwitched || r.State == StateRetired) {
				moved = append(moved, t)
			}
		}
		return "pulumi config set llama:moved " + strings.Join(moved, ",") + " && pulumi up   (the point of no return; add traffic to the list once DNS has moved)",
			move + " --back"
	case state == StateSwitched:
		return move + " --retire", ""
	case state == StateBack:
		return move + "   (forward again; or leave it: the retire pulumi up is refused until a switch is recorded)", ""
	}
	return move, ""
}

// statusCommand prints Status, one JSON object a line.
func statusCommand(ctx context.Context, src Source, env Env, stdout, stderr io.Writer) int {
	sts, err := Status(ctx, src, env)
	if err != nil {
		fmt.Fprintf(stderr, "llama-app move status: %v\n", err)
		return 1
	}
	if len(sts) == 0 {
		fmt.Fprintln(stdout, "no move under way")
		return 0
	}
	for _, st := range sts {
		b, _ := json.Marshal(st)
		fmt.Fprintln(stdout, string(b))
	}
	return 0
}
