// Package tokens maps Terraform resource and data source names of terraform-provider-openstack to
// the Pulumi tokens that @pulumi/openstack uses, so programs written against that SDK run
// unchanged on a provider bridged from the Terraform provider.
//
// Rules (openstack_<module>_<words>_<vN>):
//   - module: lb → loadbalancer, db → database, fw → firewall, otherwise as is;
//   - name: the words in PascalCase, compound words spelled as the SDK does (floatingip →
//     FloatingIp, secgroup → SecGroup, …); data sources get a "get" prefix;
//   - version suffix: kept where the SDK keeps it (QuotaSetV2), decided against the SDK's own
//     token list (sdk-tokens.txt, generated from the installed SDK by ../sdk-tokens.sh);
//   - a few irregular SDK spellings no rule produces are listed explicitly;
//   - names the SDK does not know (resources newer than the SDK) get the unversioned token, or
//     the versioned one if the unversioned is taken.
package tokens

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

//go:embed sdk-tokens.txt
var sdkTokensFile string

const pkg = "openstack"

// moduleAliases are the Terraform name prefixes whose SDK module has another name.
var moduleAliases = map[string]string{
	"lb": "loadbalancer",
	"db": "database",
	"fw": "firewall",
}

// wordSpellings are Terraform words that are compounds in the SDK's names.
var wordSpellings = map[string]string{
	"addressscope":    "AddressScope",
	"clustertemplate": "ClusterTemplate",
	"flavorprofile":   "FlavorProfile",
	"floatingip":      "FloatingIp",
	"ipsec":           "IpSec",
	"l7policy":        "L7Policy",
	"l7rule":          "L7Rule",
	"loadbalancer":    "LoadBalancer",
	"nodegroup":       "NodeGroup",
	"portforwarding":  "PortForwarding",
	"quotaset":        "QuotaSet",
	"recordset":       "RecordSet",
	"secgroup":        "SecGroup",
	"securityservice": "SecurityService",
	"servergroup":     "ServerGroup",
	"sharenetwork":    "ShareNetwork",
	"subnetpool":      "SubnetPool",
	"tempurl":         "TempUrl",
}

// Irregular SDK tokens that no rule produces (spelling slips and moved modules kept by the SDK).
var (
	resourceOverrides = map[string]string{
		"openstack_blockstorage_quotaset_v3": "openstack:blockstorage/quoteSetV3:QuoteSetV3",
		"openstack_objectstorage_object_v1":  "openstack:objectstorage/containerObject:ContainerObject",
	}
	dataSourceOverrides = map[string]string{
		"openstack_blockstorage_quotaset_v3":               "openstack:blockstorage/getQuotasetV3:getQuotasetV3",
		"openstack_dns_zone_v2":                            "openstack:dns/getDnsZone:getDnsZone",
		"openstack_fw_group_v2":                            "openstack:index/getFwGroupV2:getFwGroupV2",
		"openstack_fw_policy_v2":                           "openstack:index/getFwPolicyV2:getFwPolicyV2",
		"openstack_fw_rule_v2":                             "openstack:index/getFwRuleV2:getFwRuleV2",
		"openstack_sharedfilesystem_availability_zones_v2": "openstack:sharedfilesystem/getAvailbilityZones:getAvailbilityZones",
	}
)

// Reference returns the SDK's tokens (resource types and function tokens) from sdk-tokens.txt.
func Reference() map[string]bool {
	ref := map[string]bool{}
	for _, line := range strings.Split(sdkTokensFile, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			ref[line] = true
		}
	}
	return ref
}

// Kind tells resources from data sources (functions).
type Kind int

const (
	Resource Kind = iota
	DataSource
)

type parsed struct {
	module, name, version string
}

// parse splits openstack_<module>_<words>_<vN> into module, PascalCase name and version ("V2").
func parse(tfName string) (parsed, error) {
	rest, ok := strings.CutPrefix(tfName, pkg+"_")
	if !ok || rest == "" {
		return parsed{}, fmt.Errorf("%q does not start with %q", tfName, pkg+"_")
	}
	parts := strings.Split(rest, "_")
	var p parsed
	if last := parts[len(parts)-1]; len(parts) > 1 && isVersion(last) {
		p.version = "V" + last[1:]
		parts = parts[:len(parts)-1]
	}
	p.module = parts[0]
	if alias, ok := moduleAliases[p.module]; ok {
		p.module = alias
	}
	words := parts[1:]
	if len(words) == 0 { // e.g. openstack_bgpvpn_v2: the module names the resource
		words = parts[:1]
	}
	var b strings.Builder
	for _, w := range words {
		if s, ok := wordSpellings[w]; ok {
			b.WriteString(s)
		} else {
			b.WriteString(upperFirst(w))
		}
	}
	p.name = b.String()
	return p, nil
}

func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// token builds openstack:<module>/<member>:<Type> from a PascalCase name.
func token(kind Kind, module, name string) string {
	if kind == DataSource {
		fn := "get" + name
		return fmt.Sprintf("%s:%s/%s:%s", pkg, module, fn, fn)
	}
	return fmt.Sprintf("%s:%s/%s:%s", pkg, module, lowerFirst(name), name)
}

// candidates lists a name's tokens in order of preference: versioned first (the SDK keeps the
// suffix where an unversioned token exists for an older API, e.g. firewall/policy vs policyV2),
// then unversioned.
func candidates(kind Kind, p parsed) []string {
	if p.version == "" {
		return []string{token(kind, p.module, p.name)}
	}
	return []string{token(kind, p.module, p.name+p.version), token(kind, p.module, p.name)}
}

// Map assigns a token to every Terraform name of one kind. Names are processed in a fixed order
// (overrides, then SDK matches, then the rest, each sorted), so the result is deterministic and
// no two names share a token.
func Map(kind Kind, tfNames []string, reference map[string]bool) (map[string]string, error) {
	overrides := resourceOverrides
	if kind == DataSource {
		overrides = dataSourceOverrides
	}
	names := append([]string(nil), tfNames...)
	sort.Strings(names)
	parsedNames := map[string]parsed{}
	for _, n := range names {
		p, err := parse(n)
		if err != nil {
			return nil, err
		}
		parsedNames[n] = p
	}

	out := map[string]string{}
	taken := map[string]string{}
	assign := func(n, tok string) error {
		if other, dup := taken[tok]; dup {
			return fmt.Errorf("token %s would be used by both %s and %s", tok, other, n)
		}
		out[n], taken[tok] = tok, n
		return nil
	}
	for _, n := range names {
		if tok, ok := overrides[n]; ok {
			if err := assign(n, tok); err != nil {
				return nil, err
			}
		}
	}
	for _, n := range names {
		if _, done := out[n]; done {
			continue
		}
		for _, tok := range candidates(kind, parsedNames[n]) {
			if _, used := taken[tok]; reference[tok] && !used {
				if err := assign(n, tok); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	for _, n := range names {
		if _, done := out[n]; done {
			continue
		}
		// Not in the SDK: prefer the unversioned token unless the SDK or another name has it.
		c := candidates(kind, parsedNames[n])
		assigned := false
		for i := len(c) - 1; i >= 0; i-- {
			if _, used := taken[c[i]]; !used && !reference[c[i]] {
				if err := assign(n, c[i]); err != nil {
					return nil, err
				}
				assigned = true
				break
			}
		}
		if !assigned {
			return nil, fmt.Errorf("no free token for %s (candidates %v)", n, c)
		}
	}
	return out, nil
}
