package access

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// TestReadParameters: the app may read its stack's parameters, in the stack's partition, and
// nothing beside them.
func TestReadParameters(t *testing.T) {
	for partition, want := range map[string]string{"": "arn:aws:ssm:", "aws-cn": "arn:aws-cn:ssm:"} {
		s := ReadParameters(partition, "eu-west-1", "123456789012", "/llama/dev")
		res, err := internals.UnsafeAwaitOutput(context.Background(), Document([]Statement{s}))
		if err != nil {
			t.Fatal(err)
		}
		doc := res.Value.(string)
		var d struct {
			Statement []struct{ Action, Resource any }
		}
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc, want+"eu-west-1:123456789012:parameter/llama/dev/*") || strings.Contains(doc, `"*"`) || strings.Contains(doc, "ssm:Put") {
			t.Errorf("partition %q: %s", partition, doc)
		}
	}
}
