package tokens

import (
	"strings"
	"testing"
)

func TestReferenceIsTheSDKList(t *testing.T) {
	ref := Reference()
	var resources, functions int
	for tok := range ref {
		if !strings.HasPrefix(tok, "openstack:") || strings.Count(tok, ":") != 2 {
			t.Errorf("malformed reference token %q", tok)
		}
		member := tok[strings.Index(tok, "/")+1 : strings.LastIndex(tok, ":")]
		if strings.HasPrefix(member, "get") {
			functions++
		} else {
			resources++
		}
	}
	// @pulumi/openstack 3.15.2: 105 resources, 53 functions.
	if resources != 105 || functions != 53 {
		t.Errorf("reference has %d resources and %d functions, want 105 and 53 (regenerate with sdk-tokens.sh?)", resources, functions)
	}
}

func TestOverridesAreSDKTokens(t *testing.T) {
	ref := Reference()
	for _, m := range []map[string]string{resourceOverrides, dataSourceOverrides} {
		for tf, tok := range m {
			if !ref[tok] {
				t.Errorf("override %s → %s is not an SDK token", tf, tok)
			}
		}
	}
}

func TestMapReproducesSDKTokens(t *testing.T) {
	ref := Reference()
	resources := map[string]string{
		"openstack_networking_network_v2":              "openstack:networking/network:Network",
		"openstack_networking_floatingip_v2":           "openstack:networking/floatingIp:FloatingIp",
		"openstack_networking_floatingip_associate_v2": "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
		"openstack_networking_secgroup_rule_v2":        "openstack:networking/secGroupRule:SecGroupRule",
		"openstack_networking_router_interface_v2":     "openstack:networking/routerInterface:RouterInterface",
		"openstack_compute_servergroup_v2":             "openstack:compute/serverGroup:ServerGroup",
		"openstack_compute_quotaset_v2":                "openstack:compute/quotaSetV2:QuotaSetV2",
		"openstack_lb_loadbalancer_v2":                 "openstack:loadbalancer/loadBalancer:LoadBalancer",
		"openstack_lb_member_v2":                       "openstack:loadbalancer/member:Member",
		"openstack_lb_l7policy_v2":                     "openstack:loadbalancer/l7PolicyV2:L7PolicyV2",
		"openstack_fw_policy_v2":                       "openstack:firewall/policyV2:PolicyV2",
		"openstack_db_instance_v1":                     "openstack:database/instance:Instance",
		"openstack_identity_application_credential_v3": "openstack:identity/applicationCredential:ApplicationCredential",
		"openstack_blockstorage_volume_v3":             "openstack:blockstorage/volume:Volume",
		"openstack_blockstorage_quotaset_v3":           "openstack:blockstorage/quoteSetV3:QuoteSetV3",
		"openstack_vpnaas_ipsec_policy_v2":             "openstack:vpnaas/ipSecPolicy:IpSecPolicy",
		"openstack_networking_segment_v2":              "openstack:networking/segment:Segment", // not in the SDK
	}
	dataSources := map[string]string{
		"openstack_networking_network_v2":                  "openstack:networking/getNetwork:getNetwork",
		"openstack_images_image_v2":                        "openstack:images/getImage:getImage",
		"openstack_compute_flavor_v2":                      "openstack:compute/getFlavor:getFlavor",
		"openstack_networking_subnet_ids_v2":               "openstack:networking/getSubnetIdsV2:getSubnetIdsV2",
		"openstack_blockstorage_quotaset_v3":               "openstack:blockstorage/getQuotasetV3:getQuotasetV3",
		"openstack_sharedfilesystem_availability_zones_v2": "openstack:sharedfilesystem/getAvailbilityZones:getAvailbilityZones",
		"openstack_fw_group_v2":                            "openstack:index/getFwGroupV2:getFwGroupV2",
		// Two names for one thing, neither in the SDK: both get a token, deterministically.
		"openstack_lb_flavor_v2":           "openstack:loadbalancer/getFlavor:getFlavor",
		"openstack_loadbalancer_flavor_v2": "openstack:loadbalancer/getFlavorV2:getFlavorV2",
	}
	for kind, want := range map[Kind]map[string]string{Resource: resources, DataSource: dataSources} {
		var names []string
		for n := range want {
			names = append(names, n)
		}
		got, err := Map(kind, names, ref)
		if err != nil {
			t.Fatal(err)
		}
		for n, tok := range want {
			if got[n] != tok {
				t.Errorf("kind %d: %s → %s, want %s", kind, n, got[n], tok)
			}
		}
	}
}

func TestMapRejectsForeignNames(t *testing.T) {
	if _, err := Map(Resource, []string{"aws_instance"}, Reference()); err == nil {
		t.Error("want an error for a name without the openstack_ prefix")
	}
}
