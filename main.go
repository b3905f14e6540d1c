// The Llama stages' Pulumi program (project llama): `pulumi up` deploys the stage that
// llama:stage names. The offline command is cmd/llama; the app every rung runs, cmd/llama-app.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/stacks"
)

func main() {
	pulumi.Run(stacks.Program)
}
