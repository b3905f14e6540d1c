package stacks

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// A live promotion moves data and traffic in four steps, each safe to stop after: the expand
// `pulumi up` builds the new tier beside the old one and publishes it under next/; `llama-app
// move <tier>` copies, catches up, verifies, fences the old store and switches, recording the
// switch as the parameter moves/<tier>; the app follows; and the retire `pulumi up`
// (llama:moved) makes the new tier the current one and lets the old one go. This file holds
// the check that the retire `up` makes before it lets anything go.

// RecordReader reads a mover's record, the value of the parameter moves/<tier> under the
// stack's prefix; an error when there is none.
type RecordReader func(ctx *pulumi.Context, name string) (string, error)

// SSMRecords reads the mover's records from SSM, as `pulumi up` runs the program.
func SSMRecords(ctx *pulumi.Context, name string) (string, error) {
	p, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: name})
	if err != nil {
		return "", err
	}
	return p.InsecureValue, nil
}

// moveRecord is what the program reads of a mover's record.
type moveRecord struct {
	State  string `json:"state"`
	Shards int    `json:"shards"`
}

// checkMoves refuses a retire `up` (llama:moved naming a tier) unless the mover recorded that
// tier's switch: the old tier may hold data or traffic nothing else holds. Traffic has no
// mover (DNS is the operator's); offline, with no records to read, the key alone decides.
func checkMoves(ctx *pulumi.Context, cfg *Config, prefix string, read RecordReader) error {
	if read == nil {
		return nil
	}
	for _, tier := range []string{MoveDB, MoveShards, MoveActivity} {
		if !cfg.Moves.Moved[tier] {
			continue
		}
		if tier == MoveShards && cfg.Pending(MoveShards) {
			continue // a shard growth under way: nothing of the old map retires in this up
		}
		name := fmt.Sprintf("%s/moves/%s", prefix, tier)
		raw, err := read(ctx, name)
		var r moveRecord
		if err == nil {
			err = json.Unmarshal([]byte(raw), &r)
		}
		ok := err == nil && (r.State == "switched" || r.State == "retired")
		if ok && tier == MoveShards && r.Shards != 0 && r.Shards != cfg.Shards.Count {
			ok = false
			r.State = fmt.Sprintf("%s to %d shards, not %d", r.State, r.Shards, cfg.Shards.Count)
		}
		if !ok {
			state := r.State
			if err != nil {
				state = "not recorded (" + err.Error() + ")"
			}
			return &ConfigError{Key: Namespace + ":moved", Value: fmt.Sprint(cfg.Moves.Moved),
				Allowed: fmt.Sprintf("only tiers whose switch the mover recorded: the %s move is %s (%s). Run `llama-app move %s` (see `llama-app move status`) before the retire pulumi up, or remove %s from llama:moved",
					tier, state, name, tier, tier)}
		}
	}
	return nil
}
