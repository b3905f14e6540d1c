package cost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/llama-stages/llama/suggest"
)

// Figure is one usage assumption a price depends on.
type Figure struct {
	Key         string
	Unit        string
	Description string
	Share       bool    // a fraction from 0 to 1
	Max         float64 // the most a usage file may give: past it, a typo rather than traffic
}

// Figures are the usage assumptions, each with its meaning; a usage file may set any of them.
var Figures = []Figure{
	{"requests", "requests/month", "requests the app serves a month (API calls and static files)", false, 1e12},
	{"responseKB", "KB", "average response size", false, 1e5},
	{"staticShare", "share", "share of response bytes that are static files (the box's disk, the static bucket or the SPA)", true, 1},
	{"staticRequestShare", "share", "share of requests that ask for static files: what the bucket, and on the serverless ladder not the function, answers", true, 1},
	{"cdnHitRatio", "share", "share of static bytes Cloudflare serves from its cache, from the cdn rung on", true, 1},
	{"logBytesPerRequest", "bytes", "log bytes a request writes across nginx, the app and access logs", false, 1e6},
	{"flowLogBytesPerRecord", "bytes", "bytes of one VPC flow log record (a flow's minute, seen by one network interface)", false, 1e5},
	{"requestsPerConnection", "requests", "requests a client connection carries (keep-alive): flow logs record connections, not requests", false, 1e6},
	{"exportedLogGB", "GB/month", "what each database's and the cache's exported logs ingest a month (errors, slow queries, connections)", false, 1e6},
	{"cacheDataGB", "GB", "data the cache holds, which each of its daily snapshots stores", false, 1e6},
	{"privateEgressGB", "GB/month", "what the fleet's private subnets send out through NAT besides its logs: AWS APIs, package updates", false, 1e7},
	{"lambdaMs", "ms", "average function duration", false, 900000},
	{"writerAcu", "ACU", "average capacity of each Aurora Serverless v2 writer (the database and every shard); follows requests unless a usage file sets it", false, 256},
	{"readerAcu", "ACU", "average capacity of each Aurora Serverless v2 reader; half the writer's unless a usage file sets it", false, 256},
	{"peakToAverage", "x", "the busiest hour's requests over the month's average: what capacity must carry", false, 100},
	{"requestsPerInstanceSecond", "requests/s", "requests a second one fleet instance serves at its scaling target; the fleet's size follows the traffic", false, 1e6},
	{"auroraStorageGB", "GB", "storage of each Aurora cluster", false, 131072},
	{"auroraIoPerRequest", "I/Os", "Aurora storage I/Os a request causes, spread over the clusters", false, 1e5},
	{"activityShare", "share", "share of requests that record activity: DynamoDB writes from the nosql rung on", true, 1},
	{"activityReadShare", "share", "share of requests that read activity: DynamoDB reads from the nosql rung on", true, 1},
	{"dynamoStorageGB", "GB", "DynamoDB storage, all tables", false, 1e7},
	{"staticStorageGB", "GB", "static assets or the SPA in S3", false, 1e7},
	{"logCompression", "share", "share of ingested log bytes CloudWatch Logs keeps after compressing them, which storage bills", true, 1},
}

// Usage is a traffic profile: a value for every figure.
type Usage map[string]float64

// Profile is the traffic profile of a rung whose audience makes requests a month (the ladder
// table gives each rung's: stacks.Rung.Requests).
func Profile(requests float64) Usage {
	if requests == 0 {
		requests = 3e6
	}
	writer := WriterAcu(requests)
	return Usage{
		"requests": requests, "responseKB": 20, "staticShare": 0.6, "staticRequestShare": 0.6, "cdnHitRatio": 0.9, "logCompression": 0.15,
		"logBytesPerRequest": 800, "flowLogBytesPerRecord": 150, "requestsPerConnection": 10, "exportedLogGB": 1, "cacheDataGB": 1, "privateEgressGB": 10,
		"lambdaMs": 60, "writerAcu": writer, "readerAcu": writer / 2, "auroraStorageGB": 20, "auroraIoPerRequest": 2,
		"activityShare": 0.3, "activityReadShare": 0.05, "dynamoStorageGB": 10, "staticStorageGB": 5,
		"peakToAverage": 3, "requestsPerInstanceSecond": 150,
	}
}

// acuPoints are the serverless writer's average capacity at the rungs' traffic: it grows with
// requests until replicas, the cache and shards take load off it.
var acuPoints = [][2]float64{{0, 0.5}, {30e6, 1}, {100e6, 2}, {300e6, 2}, {1000e6, 4}}

// WriterAcu is a writer's average capacity at requests a month: between the rungs' points it
// follows the line through them, past the last the last one's slope.
func WriterAcu(requests float64) float64 {
	for i := 1; i < len(acuPoints); i++ {
		a, b := acuPoints[i-1], acuPoints[i]
		if requests <= b[0] || i == len(acuPoints)-1 {
			return math.Round((a[1]+(requests-a[0])*(b[1]-a[1])/(b[0]-a[0]))*2) / 2
		}
	}
	return acuPoints[len(acuPoints)-1][1]
}

// Scaled returns the profile with requests multiplied by k (the comparisons at ten times
// the traffic).
func (u Usage) Scaled(k float64) Usage {
	out := Usage{}
	for key, v := range u {
		out[key] = v
	}
	out["requests"] *= k
	// Capacity follows the traffic.
	out["writerAcu"] = WriterAcu(out["requests"])
	out["readerAcu"] = out["writerAcu"] / 2
	return out
}

// ParseUsage reads a usage file (YAML or JSON: an object of figures to numbers) over a base
// profile. Unknown figures, values that are not numbers, negative numbers and shares above 1
// are errors that name the figure.
func ParseUsage(data []byte, base Usage) (Usage, error) {
	var raw map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		if strings.TrimSpace(string(data)) == "" {
			return nil, fmt.Errorf("usage file is empty: want an object of figures, such as requests: 5000000")
		}
		return nil, fmt.Errorf("usage file is not YAML or JSON: %w", err)
	}
	out := Usage{}
	for k, v := range base {
		out[k] = v
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []string
	for _, k := range keys {
		n, why := figureValue(k, raw[k])
		if why != "" {
			errs = append(errs, k+": "+why)
			continue
		}
		out[k] = n
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("usage file: %s", strings.Join(errs, "; "))
	}
	// Capacity follows the traffic the file gives unless it gives the capacity too.
	if _, ok := raw["requests"]; ok {
		if _, set := raw["writerAcu"]; !set {
			out["writerAcu"] = WriterAcu(out["requests"])
		}
		if _, set := raw["readerAcu"]; !set {
			out["readerAcu"] = out["writerAcu"] / 2
		}
	}
	return out, nil
}

// figureValue checks one figure of a usage file: a known figure, a number, within its range.
func figureValue(k string, v any) (float64, string) {
	f, ok := figure(k)
	if !ok {
		return 0, fmt.Sprintf("unknown figure%s; known: %s", suggest.DidYouMean(k, FigureKeys()), strings.Join(FigureKeys(), ", "))
	}
	var n float64
	switch x := v.(type) {
	case int:
		n = float64(x)
	case float64:
		n = x
	default:
		b, _ := json.Marshal(v)
		return 0, fmt.Sprintf("%s is not a number (%s)", b, f.Unit)
	}
	switch {
	case n < 0:
		return 0, fmt.Sprintf("%g is negative", n)
	case f.Share && n > 1:
		return 0, fmt.Sprintf("%g is a share, from 0 to 1", n)
	case f.Max > 0 && n > f.Max:
		return 0, fmt.Sprintf("%g is more than %g %s, the most a usage file may give (a trillion requests a month is 385,000 a second; Aurora stops at 256 ACU and 128 TiB; Lambda at 15 minutes)", n, f.Max, f.Unit)
	}
	return n, ""
}

func figure(key string) (Figure, bool) {
	for _, f := range Figures {
		if f.Key == key {
			return f, true
		}
	}
	return Figure{}, false
}

// FigureKeys lists the figures' keys.
func FigureKeys() []string {
	out := make([]string, len(Figures))
	for i, f := range Figures {
		out[i] = f.Key
	}
	return out
}
