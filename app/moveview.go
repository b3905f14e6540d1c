package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llama-stages/llama/contract"
)

// The tiers a live promotion moves (`llama-app move <tier>`): the primary database (the box's
// PostgreSQL to RDS or Aurora), the shard map (the primary to shards, or a shard count that
// grows) and the activity subset (PostgreSQL to DynamoDB).
const (
	TierDB       = "db"
	TierShards   = "shards"
	TierActivity = "activity"
)

// Tiers lists the tiers a move takes, in the order a promotion meets them.
var Tiers = []string{TierDB, TierShards, TierActivity}

// tierKeys is the parameter prefix each tier's keys live under.
var tierKeys = map[string]string{TierDB: "db/", TierShards: "shards/", TierActivity: "tables/"} // the contract's groups

// NextPrefix is where the expand `pulumi up` publishes a new tier beside the current one
// (next/db/primary/endpoint, next/shards/count, next/tables/names); RecordPrefix is where
// the mover records each tier's move (moves/db), which the stack reads at `pulumi up`.
const (
	NextPrefix   = contract.Next
	RecordPrefix = contract.Moves
)

// The states of a move, in the order a move meets them. A tier with next/ keys and no record
// is expanded; the retire `pulumi up` (llama:moved) publishes the new tier as the current one,
// and `llama-app move <tier> --retire` then removes what the move left on the old tier.
const (
	StateExpanded   = "expanded"
	StateCopying    = "copying"
	StateCatchingUp = "catching-up"
	StateSwitched   = "switched"
	StateBack       = "back"
	StateRetired    = "retired"
)

// Record is the mover's record of one tier's move, kept as the parameter moves/<tier>: the
// running app follows it, and `pulumi up` reads it before it retires the old tier.
type Record struct {
	Tier  string `json:"tier"`
	State string `json:"state"`
	// Gen counts the switches, forward and back. Each store a switch leaves is fenced against
	// writers of an older generation; the app names its generation of every tier in its
	// connections' application_name.
	Gen     int    `json:"gen"`
	Fenced  string `json:"fenced,omitempty"` // "old" or "new" while a switch drains
	Rows    int64  `json:"rows,omitempty"`
	PauseMs int64  `json:"writePauseMs,omitempty"` // the last switch's write pause
	// Target fingerprints the next/ keys the move switched to: a later expand (a shard count
	// that grows again) publishes other keys, which the app does not follow until their own
	// move switches.
	Target  string    `json:"target,omitempty"`
	Shards  int       `json:"shards,omitempty"` // a shard move's count after the switch
	Updated time.Time `json:"updated"`
}

// readRecord returns a tier's move record from the parameters, if the mover wrote one.
func readRecord(params map[string]string, tier string) (Record, bool, error) {
	raw, ok := params[RecordPrefix+tier]
	if !ok || strings.TrimSpace(raw) == "" {
		return Record{Tier: tier}, false, nil
	}
	var r Record
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return Record{Tier: tier}, false, fmt.Errorf("%s%s: %w", RecordPrefix, tier, err)
	}
	r.Tier = tier
	return r, true, nil
}

// hasNext reports whether the stack published a new tier beside the current one.
func hasNext(params map[string]string, tier string) bool {
	for k := range params {
		if strings.HasPrefix(k, NextPrefix+tierKeys[tier]) {
			return true
		}
	}
	return false
}

// target fingerprints a tier's next/ keys.
func target(params map[string]string, tier string) string {
	var keys []string
	for k := range params {
		if strings.HasPrefix(k, NextPrefix+tierKeys[tier]) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, params[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// switchedTo reports whether a record's switch is to the next/ keys the stack publishes now.
func switchedTo(r Record, params map[string]string, tier string) bool {
	return r.State == StateSwitched && hasNext(params, tier) && (r.Target == "" || r.Target == target(params, tier))
}

// current returns the parameters without next/ and moves/ keys: the tiers as the stack last
// published them as current.
func current(params map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range params {
		if !strings.HasPrefix(k, NextPrefix) && !strings.HasPrefix(k, RecordPrefix) {
			out[k] = v
		}
	}
	return out
}

// overlay returns base with one tier's keys replaced by its next/ keys.
func overlay(base, params map[string]string, tier string) map[string]string {
	out := maps.Clone(base)
	prefix := tierKeys[tier]
	for k := range out {
		if strings.HasPrefix(k, prefix) {
			delete(out, k)
		}
	}
	for k, v := range params {
		if rest, ok := strings.CutPrefix(k, NextPrefix); ok && strings.HasPrefix(rest, prefix) {
			out[rest] = v
		}
	}
	return out
}

// view is what the app serves from: the effective parameters (each switched tier's next/
// keys in place of its current ones), each tier's generation, and the moves under way.
type view struct {
	params  map[string]string
	gens    map[string]int
	records map[string]Record
	// reverse lists the tiers switched but not yet retired: the old tier is kept current.
	reverse []string
}

// resolve works out the app's view of the published parameters.
func resolve(params map[string]string) (view, error) {
	v := view{params: current(params), gens: map[string]int{}, records: map[string]Record{}}
	for _, tier := range Tiers {
		r, ok, err := readRecord(params, tier)
		if err != nil {
			return v, err
		}
		if !ok {
			continue
		}
		v.records[tier], v.gens[tier] = r, r.Gen
		if switchedTo(r, params, tier) {
			v.params = overlay(v.params, params, tier)
			v.reverse = append(v.reverse, tier)
		}
	}
	return v, nil
}

// appName is the application_name of the app's connections: it carries the app's generation
// of each tier, which a fenced store checks (see capture.sql).
func appName(gens map[string]int) string {
	parts := []string{"llama-app"}
	for _, t := range Tiers {
		parts = append(parts, t+"="+strconv.Itoa(gens[t]))
	}
	return strings.Join(parts, " ")
}

// moving reports whether a move is copying or catching up: the app then reads the parameters
// more often, so that it follows the switch soon after it happens.
func (v view) moving() bool {
	for _, r := range v.records {
		if r.State == StateCopying || r.State == StateCatchingUp {
			return true
		}
	}
	return false
}
