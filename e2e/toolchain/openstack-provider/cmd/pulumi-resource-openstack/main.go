// pulumi-resource-openstack is the Pulumi resource plugin of the bridged OpenStack provider.
//
// It embeds schema.json, which the build (../../../openstack-provider.sh) generates with
// pulumi-tfgen-openstack into a copy of this module; the source tree holds no generated schema,
// so this package builds only there.
package main

import (
	_ "embed"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"e2e.local/openstack-provider/provider"
	"e2e.local/openstack-provider/version"
)

//go:embed schema.json
var schema []byte

func main() {
	if version.Version == "" {
		fmt.Fprintln(os.Stderr, "pulumi-resource-openstack: built without -X e2e.local/openstack-provider/version.Version=...")
		os.Exit(2)
	}
	info, err := provider.Provider(version.Version, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-openstack: %v\n", err)
		os.Exit(1)
	}
	tfbridge.Main("openstack", version.Version, info, schema)
}
