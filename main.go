// Command llama is the Pulumi program: `pulumi up` deploys the stage that llama:stage names.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/stacks"
)

func main() {
	pulumi.Run(stacks.Program)
}
