// pulumi-tfgen-openstack generates the Pulumi schema of the bridged OpenStack provider:
//
//	pulumi-tfgen-openstack schema --skip-examples --out DIR
//
// TFGEN_UPSTREAM_REPO_PATH may name the terraform-provider-openstack source directory (its docs/
// become the schema's descriptions); without it the bridge locates the module itself.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"e2e.local/openstack-provider/provider"
	"e2e.local/openstack-provider/version"
)

func main() {
	if version.Version == "" {
		fmt.Fprintln(os.Stderr, "pulumi-tfgen-openstack: built without -X e2e.local/openstack-provider/version.Version=...")
		os.Exit(2)
	}
	info, err := provider.Provider(version.Version, os.Getenv("TFGEN_UPSTREAM_REPO_PATH"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-tfgen-openstack: %v\n", err)
		os.Exit(1)
	}
	tfgen.Main("openstack", version.Version, info)
}
