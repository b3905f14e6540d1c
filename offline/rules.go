package offline

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Rule is one rule a real provider applies and the mock engine does not: a plan that breaks it
// passes offline and fails `pulumi up`. Each names its documented source.
type Rule struct {
	Name   string
	Source string
	Check  func(p *Plan) []error
}

// Rules are the provider rules every plan is held to.
var Rules = []Rule{
	{"s3-public-policy", "S3 User Guide, \"Blocking public access to your Amazon S3 storage\", section \"The meaning of public\": an anonymous Allow whose aws:SourceIp is broader than /8 (IPv4) or /32 (IPv6), or that has no such condition, is public, and BlockPublicPolicy refuses it",
		checkPublicPolicies},
	{"engine-version-pin", "RDS User Guide, \"Automatically upgrading the minor engine version\": RDS upgrades a minor version it was pinned below, and a later apply of the old pin is a downgrade, which RDS refuses",
		checkVersionPins},
	{"one-entry-point-per-phase", "Cloudflare Ruleset Engine, \"Phase entry point ruleset\": a zone has one entry point ruleset per phase",
		checkEntryPoints},
	{"entry-point-held", "terraform-provider-cloudflare v4 internal/framework/service/rulesets/resource.go, Create: where the zone's entry point for the phase already holds rules, creating a zone ruleset fails with \"A similar configuration with rules already exists\"; it must be imported",
		checkHeldEntryPoints},
	{"cloudflare-plan", "Cloudflare Origin Rules, \"Availability\": the Host header, SNI and DNS record overrides are Enterprise-plan features; the ruleset API refuses them on the Free, Pro and Business plans (llama:cloudflarePlan names the zone's plan)",
		checkCloudflarePlan},
	{"lambda-environment-size", "Lambda Developer Guide, \"Lambda quotas\": a function's environment variables total at most 4 KB, keys and values together; a larger set fails CreateFunction and UpdateFunctionConfiguration",
		checkLambdaEnvironment},
	{"published-metrics", "each service's CloudWatch metrics page, per namespace in offline/metrics.go: an alarm or widget on a metric, dimensions or statistic the service does not publish watches nothing",
		checkPublishedMetrics},
}

// LambdaEnvironmentLimit is the most bytes a function's environment variables hold, keys and
// values together.
const LambdaEnvironmentLimit = 4096

// checkLambdaEnvironment holds every function's environment to Lambda's size quota.
func checkLambdaEnvironment(p *Plan) []error {
	var errs []error
	for _, r := range p.OfType("aws:lambda/function:Function") {
		env, _ := r.Inputs["environment"].(map[string]any)
		vars, _ := env["variables"].(map[string]any)
		size := 0
		for k, v := range vars {
			size += len(k) + len(fmt.Sprint(v))
		}
		if size > LambdaEnvironmentLimit {
			errs = append(errs, &RuleError{URN: r.URN, Input: "environment.variables",
				Why: fmt.Sprintf("%d bytes of environment variables, more than Lambda's %d", size, LambdaEnvironmentLimit)})
		}
	}
	return errs
}

// RuleError is a plan a provider would refuse: the resource, the input and the rule.
type RuleError struct {
	URN, Input, Rule, Source, Why string
}

// Error names the resource, the input, what is wrong and the rule with its source.
func (e *RuleError) Error() string {
	return fmt.Sprintf("%s: input %s: %s (rule %s; %s)", e.URN, e.Input, e.Why, e.Rule, e.Source)
}

// CheckRules holds a plan to every rule.
func CheckRules(p *Plan) error {
	var errs []error
	for _, r := range Rules {
		for _, err := range r.Check(p) {
			var re *RuleError
			if errors.As(err, &re) {
				re.Rule, re.Source = r.Name, r.Source
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkPublicPolicies(p *Plan) []error {
	var errs []error
	for _, r := range p.Resources {
		if r.Type != "aws:s3/bucketPolicy:BucketPolicy" {
			continue
		}
		raw, _ := r.Inputs["policy"].(string)
		var doc struct {
			Statement []struct {
				Effect    string
				Principal any
				Condition map[string]map[string]any
			}
		}
		if json.Unmarshal([]byte(raw), &doc) != nil {
			continue
		}
		for i, st := range doc.Statement {
			if st.Effect != "Allow" || !anonymous(st.Principal) {
				continue
			}
			var ranges []string
			for op, conds := range st.Condition {
				if op != "IpAddress" {
					continue
				}
				switch v := conds["aws:SourceIp"].(type) {
				case string:
					ranges = append(ranges, v)
				case []any:
					for _, x := range v {
						ranges = append(ranges, fmt.Sprint(x))
					}
				}
			}
			input := fmt.Sprintf("policy.Statement[%d]", i)
			if len(ranges) == 0 {
				errs = append(errs, &RuleError{URN: r.URN, Input: input, Why: "an anonymous Allow without a narrow aws:SourceIp makes the bucket public"})
			}
			for _, c := range ranges {
				pr, err := netip.ParsePrefix(c)
				if err != nil {
					continue
				}
				if (pr.Addr().Is4() && pr.Bits() < 8) || (pr.Addr().Is6() && pr.Bits() < 32) {
					errs = append(errs, &RuleError{URN: r.URN, Input: input + ".Condition.IpAddress.aws:SourceIp",
						Why: fmt.Sprintf("the anonymous Allow from %s is broader than S3 accepts (/8 IPv4, /32 IPv6)", c)})
				}
			}
		}
	}
	return errs
}

func anonymous(principal any) bool {
	switch p := principal.(type) {
	case string:
		return p == "*"
	case map[string]any:
		// {"AWS": "*"} or {"AWS": [..., "*", ...]}
		return anonymous(p["AWS"])
	case []any:
		return slices.Contains(p, any("*"))
	}
	return false
}

var reMinor = regexp.MustCompile(`^[0-9]+\.[0-9]+`)

// checkVersionPins: an engine version pinned to a minor release beside automatic minor
// upgrades, and not ignored, asks for a downgrade once AWS upgrades.
func checkVersionPins(p *Plan) []error {
	autoMinor := map[string]bool{} // cluster identifiers whose instances upgrade themselves
	for _, r := range p.Resources {
		if r.Type == "aws:rds/clusterInstance:ClusterInstance" && r.Inputs["autoMinorVersionUpgrade"] != false {
			if id, ok := r.Inputs["clusterIdentifier"].(string); ok {
				autoMinor[id] = true
			}
		}
	}
	var errs []error
	for _, r := range p.Resources {
		v, _ := r.Inputs["engineVersion"].(string)
		if !reMinor.MatchString(v) || slices.Contains(r.IgnoreChanges, "engineVersion") {
			continue
		}
		upgrades := false
		switch r.Type {
		case "aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance":
			upgrades = r.Inputs["autoMinorVersionUpgrade"] != false
		case "aws:rds/cluster:Cluster":
			upgrades = autoMinor[r.ID]
		}
		if upgrades {
			errs = append(errs, &RuleError{URN: r.URN, Input: "engineVersion",
				Why: fmt.Sprintf("%s pins a minor version while minor versions upgrade automatically: pin the major version, or ignore engineVersion changes", v)})
		}
	}
	return errs
}

// checkHeldEntryPoints holds zone rulesets to what the provider and the engine do with an
// entry point that already exists: the provider creates one only where the phase has none, or
// an empty undescribed one; the engine updates one the stack holds, and imports one it does
// not hold only by an import option, which on a resource the stack holds under another
// import ID replaces it.
func checkHeldEntryPoints(p *Plan) []error {
	self := p.Project + "/" + p.Stack
	var errs []error
	for _, r := range p.Resources {
		if r.Type != "cloudflare:index/ruleset:Ruleset" || r.Inputs["kind"] != "zone" {
			continue
		}
		zone, phase := fmt.Sprint(r.Inputs["zoneId"]), fmt.Sprint(r.Inputs["phase"])
		rs := entryPoint(p.Zones, zone, phase)
		if rs == nil {
			continue
		}
		rules, _ := rs["rules"].([]any)
		desc, _ := rs["description"].(string)
		held, _ := rs["heldBy"].(map[string]any)
		by, holds := held[self]
		switch {
		case r.ImportID == "" && !holds && (len(rules) > 0 || desc != ""):
			errs = append(errs, &RuleError{URN: r.URN, Input: "phase",
				Why: fmt.Sprintf("zone %s's %s entry point (ruleset %v) already holds %d rules and is not in this stack: import it, keeping them", zone, phase, rs["id"], len(rules))})
		case r.ImportID != "" && holds && by != r.ImportID:
			errs = append(errs, &RuleError{URN: r.URN, Input: "import",
				Why: fmt.Sprintf("the stack holds zone %s's %s entry point already: importing it again as %s replaces it", zone, phase, r.ImportID)})
		}
	}
	return errs
}

// checkEntryPoints: two zone rulesets of one phase in one zone cannot both be entry points.
func checkEntryPoints(p *Plan) []error {
	seen := map[string][]string{}
	for _, r := range p.Resources {
		if r.Type != "cloudflare:index/ruleset:Ruleset" || r.Inputs["kind"] != "zone" {
			continue
		}
		k := fmt.Sprint(r.Inputs["zoneId"], " ", r.Inputs["phase"])
		seen[k] = append(seen[k], r.URN)
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		if urns := seen[k]; len(urns) > 1 {
			errs = append(errs, &RuleError{URN: urns[1], Input: "phase",
				Why: fmt.Sprintf("zone %s already has an entry point ruleset for phase %s (%s)", strings.Fields(k)[0], strings.Fields(k)[1], urns[0])})
		}
	}
	return errs
}

// enterpriseOnly are the rule action parameters of Origin Rules that only an Enterprise zone
// may set: the Host header, SNI and DNS record (origin) overrides.
var enterpriseOnly = []string{"hostHeader", "sni", "origin"}

// checkCloudflarePlan refuses a rule action parameter the zone's plan (llama:cloudflarePlan)
// does not offer.
func checkCloudflarePlan(p *Plan) []error {
	plan := p.Config["llama:cloudflarePlan"]
	if plan == "" {
		plan = "free"
	}
	if plan == "enterprise" {
		return nil
	}
	var errs []error
	for _, r := range p.OfType("cloudflare:index/ruleset:Ruleset") {
		rules, _ := r.Inputs["rules"].([]any)
		for _, x := range rules {
			params, _ := x.(map[string]any)["actionParameters"].(map[string]any)
			for _, k := range enterpriseOnly {
				if _, ok := params[k]; ok {
					errs = append(errs, &RuleError{URN: r.URN, Input: "rules.actionParameters." + k,
						Why: fmt.Sprintf("an Origin Rules %s override needs a Cloudflare Enterprise zone; llama:cloudflarePlan is %s", k, plan)})
				}
			}
		}
	}
	return errs
}
