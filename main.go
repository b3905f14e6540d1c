// The Llama stages' Pulumi program (project llama): `pulumi up` deploys the stage that
// llama:stage names. The offline command is cmd/llama; the app every rung runs, cmd/llama-app.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/release"
	"github.com/llama-stages/llama/stacks"
)

func main() {
	err := pulumi.RunErr(stacks.Program)
	release.RemoveBuilds() // the app's builds, once the engine has read them
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(32)
	}
}
