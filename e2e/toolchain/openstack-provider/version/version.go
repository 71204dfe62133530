// Package version holds the provider version, set at link time:
//
//	-ldflags "-X e2e.local/openstack-provider/version.Version=<@pulumi/openstack version>"
package version

// Version is the @pulumi/openstack version this provider stands in for (e.g. 3.15.2).
var Version string
