// Package provider bridges terraform-provider-openstack (a terraform-plugin-sdk/v2 provider) into
// a Pulumi provider whose tokens match @pulumi/openstack, so the SDK's programs use it unchanged.
package provider

import (
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	pulumitokens "github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-provider-openstack/terraform-provider-openstack/v3/openstack"

	"e2e.local/openstack-provider/tokens"
)

// Provider returns the bridge's description of the OpenStack provider at the given version.
// upstreamRepoPath is the terraform-provider-openstack source directory (for docs; tfgen only).
func Provider(version, upstreamRepoPath string) (tfbridge.ProviderInfo, error) {
	p := openstack.Provider()
	applyShims(p)

	ref := tokens.Reference()
	resourceTokens, err := tokens.Map(tokens.Resource, keys(p.ResourcesMap), ref)
	if err != nil {
		return tfbridge.ProviderInfo{}, fmt.Errorf("mapping resource tokens: %w", err)
	}
	dataSourceTokens, err := tokens.Map(tokens.DataSource, keys(p.DataSourcesMap), ref)
	if err != nil {
		return tfbridge.ProviderInfo{}, fmt.Errorf("mapping data source tokens: %w", err)
	}

	resources := map[string]*tfbridge.ResourceInfo{}
	for tfName, tok := range resourceTokens {
		resources[tfName] = &tfbridge.ResourceInfo{Tok: pulumitokens.Type(tok)}
	}
	dataSources := map[string]*tfbridge.DataSourceInfo{}
	for tfName, tok := range dataSourceTokens {
		dataSources[tfName] = &tfbridge.DataSourceInfo{Tok: pulumitokens.ModuleMember(tok)}
	}
	applyResourceShims(resources)

	return tfbridge.ProviderInfo{
		P:                       shimv2.NewProvider(p),
		Name:                    "openstack",
		Version:                 version,
		DisplayName:             "OpenStack",
		Description:             "A Pulumi package for creating and managing OpenStack cloud resources (bridged from terraform-provider-openstack for local tests).",
		Keywords:                []string{"pulumi", "openstack"},
		License:                 "Apache-2.0",
		Homepage:                "https://pulumi.io",
		Repository:              "https://github.com/pulumi/pulumi-openstack",
		GitHubOrg:               "terraform-provider-openstack",
		TFProviderModuleVersion: "v3",
		UpstreamRepoPath:        upstreamRepoPath,
		Resources:               resources,
		DataSources:             dataSources,
	}, nil
}

// applyShims adapts the Terraform provider's configuration to what @pulumi/openstack sends.
func applyShims(p *schema.Provider) {
	// The SDK always sends `useOctavia` (from config or OS_USE_OCTAVIA); TF v3 dropped the key
	// (Octavia is the only load balancer API now). Accept it and ignore it.
	if _, exists := p.Schema["use_octavia"]; !exists {
		p.Schema["use_octavia"] = &schema.Schema{
			Type:        schema.TypeBool,
			Optional:    true,
			Description: "Accepted for compatibility with @pulumi/openstack and ignored: Octavia is always used.",
		}
	}
}

// applyResourceShims keeps the SDK's shape where the bridge's defaults would differ.
func applyResourceShims(resources map[string]*tfbridge.ResourceInfo) {
	// policies is a list with at most one element in TF; the bridge would flatten it to a single
	// `policy` string, the SDK has `policies: string[]`.
	if r, ok := resources["openstack_compute_servergroup_v2"]; ok {
		r.Fields = map[string]*tfbridge.SchemaInfo{"policies": {MaxItemsOne: tfbridge.False()}}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
