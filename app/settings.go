package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/llama-stages/llama/contract"
)

// Credentials are a database user and password, or a cache auth token (Password alone).
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Source is where the app finds what the stack published: parameters (keys relative to the
// stack's prefix, db/primary/endpoint) and the secrets they point to.
type Source interface {
	// Params returns every published parameter.
	Params(ctx context.Context) (map[string]string, error)
	// Secret returns the credentials a secret ARN holds.
	Secret(ctx context.Context, arn string) (Credentials, error)
}

// parseSecret reads a secret's value: a JSON object with username and password (the shape the
// stack writes for databases and RDS Proxy reads), or a bare string (a cache auth token).
func parseSecret(raw []byte) (Credentials, error) {
	var c Credentials
	trimmed := strings.TrimSpace(string(raw))
	if strings.HasPrefix(trimmed, "{") {
		if err := json.Unmarshal([]byte(trimmed), &c); err != nil {
			return Credentials{}, fmt.Errorf("secret is not a JSON object with username and password: %w", err)
		}
		return c, nil
	}
	var s string
	if strings.HasPrefix(trimmed, `"`) && json.Unmarshal([]byte(trimmed), &s) == nil {
		return Credentials{Password: s}, nil
	}
	return Credentials{Password: trimmed}, nil
}

// LocalFile is a Source read from a JSON file, for running the app without AWS:
//
//	{"params": {"db/primary/endpoint": "127.0.0.1:5432", ...},
//	 "secrets": {"<secret ARN>": {"username": "...", "password": "..."}}}
//
// The file is read on every call, so editing it and waiting for a refresh moves a running app
// to a new rung, as a promotion does.
type LocalFile string

type localDoc struct {
	Params  map[string]string          `json:"params"`
	Secrets map[string]json.RawMessage `json:"secrets"`
}

func (f LocalFile) read() (*localDoc, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return nil, fmt.Errorf("reading LLAMA_LOCAL: %w", err)
	}
	var d localDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("LLAMA_LOCAL %s: %w", string(f), err)
	}
	if d.Params == nil {
		return nil, fmt.Errorf("LLAMA_LOCAL %s has no \"params\" object", string(f))
	}
	return &d, nil
}

// Params returns the file's params.
func (f LocalFile) Params(context.Context) (map[string]string, error) {
	d, err := f.read()
	if err != nil {
		return nil, err
	}
	return d.Params, nil
}

// Secret returns one of the file's secrets.
func (f LocalFile) Secret(_ context.Context, arn string) (Credentials, error) {
	d, err := f.read()
	if err != nil {
		return Credentials{}, err
	}
	raw, ok := d.Secrets[arn]
	if !ok {
		return Credentials{}, fmt.Errorf("LLAMA_LOCAL %s has no secret %s", string(f), arn)
	}
	return parseSecret(raw)
}

// Fixed is the Source of a function whose settings came with its deployment (LLAMA_SETTINGS, a
// JSON object of the parameters): on a rung where it reads nothing at run time, it needs no
// network path to SSM or Secrets Manager, and so no NAT gateway or interface endpoint. A
// promotion that changes a setting redeploys the function, whose new sandboxes start with it.
type Fixed map[string]string

// ParseFixed reads LLAMA_SETTINGS.
func ParseFixed(raw string) (Fixed, error) {
	var f Fixed
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return nil, fmt.Errorf("LLAMA_SETTINGS is not a JSON object of strings: %w", err)
	}
	if len(f) == 0 {
		return nil, errors.New("LLAMA_SETTINGS holds no parameter")
	}
	return f, nil
}

// Params returns the settings.
func (f Fixed) Params(context.Context) (map[string]string, error) {
	return maps.Clone(map[string]string(f)), nil
}

// Secret refuses: a function given its settings reads no secret (it signs in with IAM).
func (f Fixed) Secret(_ context.Context, arn string) (Credentials, error) {
	return Credentials{}, fmt.Errorf("secret %s: this function's settings came with its deployment, and it has no network path to Secrets Manager", arn)
}

// SetParam refuses: the moves that record come with rungs whose functions read SSM.
func (f Fixed) SetParam(_ context.Context, key, _ string) error {
	return fmt.Errorf("recording %s: this function's settings came with its deployment, and it has no network path to SSM", key)
}

// AWS is the Source of a deployed app: SSM parameters under Prefix (/llama/<stack>) and
// Secrets Manager. Secrets are cached: the stack does not rotate them.
type AWS struct {
	Prefix  string
	SSM     *ssm.Client
	Secrets *secretsmanager.Client

	mu    sync.Mutex
	cache map[string]Credentials

	// The last full read and the revision it was at (the stack's params/revision).
	readMu   sync.Mutex
	last     map[string]string
	revision string
}

// The parameters a reader follows without a full read: the stack's revision of every value it
// publishes (written after them), and the mover's records, which change between the stack's
// runs.
const (
	revisionKey = contract.Revision
	movesPath   = contract.Moves
)

// NewAWS returns the Source for parameters under prefix. SSM's parameter reads share one
// throughput limit an account and region (40 a second by default), which every instance and
// function of every stack draws on: throttled reads are retried, with backoff, up to ten times.
func NewAWS(cfg aws.Config, prefix string) *AWS {
	client := ssm.NewFromConfig(cfg, func(o *ssm.Options) {
		o.Retryer = retry.AddWithMaxAttempts(retry.NewStandard(), 10)
	})
	return &AWS{Prefix: strings.TrimSuffix(prefix, "/"), SSM: client, Secrets: secretsmanager.NewFromConfig(cfg)}
}

// Params reads the parameters under the prefix. While the stack's revision is the one of the
// last full read, only the mover's records are read again (two calls); otherwise every page.
func (a *AWS) Params(ctx context.Context) (map[string]string, error) {
	a.readMu.Lock()
	defer a.readMu.Unlock()
	rev, err := a.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(a.Prefix + "/" + revisionKey)})
	var notFound *ssmtypes.ParameterNotFound
	switch {
	case errors.As(err, &notFound):
		rev = nil // a stack from before revisions: read everything each time
	case err != nil:
		return nil, fmt.Errorf("reading %s/%s: %w", a.Prefix, revisionKey, err)
	}
	revision := ""
	if rev != nil && rev.Parameter != nil {
		revision = aws.ToString(rev.Parameter.Value)
	}
	if revision != "" && revision == a.revision && a.last != nil {
		moves, err := a.byPath(ctx, movesPath)
		if err != nil {
			return nil, err
		}
		out := make(map[string]string, len(a.last))
		for k, v := range a.last {
			if !strings.HasPrefix(k, movesPath) {
				out[k] = v
			}
		}
		maps.Copy(out, moves)
		return out, nil
	}
	out, err := a.byPath(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no parameters under %s: is LLAMA_PARAMS the stack's parameterPrefix output?", a.Prefix)
	}
	a.last, a.revision = out, revision
	return maps.Clone(out), nil
}

// byPath reads every parameter under the prefix and sub, however many pages.
func (a *AWS) byPath(ctx context.Context, sub string) (map[string]string, error) {
	out := map[string]string{}
	p := ssm.NewGetParametersByPathPaginator(a.SSM, &ssm.GetParametersByPathInput{
		Path: aws.String(a.Prefix + "/" + sub), Recursive: aws.Bool(true), WithDecryption: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading parameters under %s/%s: %w", a.Prefix, sub, err)
		}
		for _, prm := range page.Parameters {
			out[strings.TrimPrefix(aws.ToString(prm.Name), a.Prefix+"/")] = aws.ToString(prm.Value)
		}
	}
	return out, nil
}

// Secret reads a secret once.
func (a *AWS) Secret(ctx context.Context, arn string) (Credentials, error) {
	a.mu.Lock()
	c, ok := a.cache[arn]
	a.mu.Unlock()
	if ok {
		return c, nil
	}
	v, err := a.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return Credentials{}, fmt.Errorf("reading secret %s: %w", arn, err)
	}
	if v.SecretString == nil {
		return Credentials{}, errors.New("secret " + arn + " holds no string")
	}
	c, err = parseSecret([]byte(*v.SecretString))
	if err != nil {
		return Credentials{}, fmt.Errorf("secret %s: %w", arn, err)
	}
	a.mu.Lock()
	if a.cache == nil {
		a.cache = map[string]Credentials{}
	}
	a.cache[arn] = c
	a.mu.Unlock()
	return c, nil
}

// SetParam writes one parameter into the file (the mover's records), replacing the file
// whole, so that a reader never sees half of it.
func (f LocalFile) SetParam(_ context.Context, key, value string) error {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return fmt.Errorf("reading LLAMA_LOCAL: %w", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("LLAMA_LOCAL %s: %w", string(f), err)
	}
	params := map[string]string{}
	if raw, ok := doc["params"]; ok {
		if err := json.Unmarshal(raw, &params); err != nil {
			return fmt.Errorf("LLAMA_LOCAL %s: params: %w", string(f), err)
		}
	}
	params[key] = value
	if doc["params"], err = json.Marshal(params); err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp := string(f) + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return fmt.Errorf("writing LLAMA_LOCAL: %w", err)
	}
	return os.Rename(tmp, string(f))
}

// SetParam writes one parameter under the prefix (the mover's records, moves/<tier>). The
// stack does not manage these, so `pulumi up` leaves them as the mover wrote them.
func (a *AWS) SetParam(ctx context.Context, key, value string) error {
	_, err := a.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(a.Prefix + "/" + key), Value: aws.String(value),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("writing parameter %s/%s: %w", a.Prefix, key, err)
	}
	return nil
}
