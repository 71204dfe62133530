"""Octavia network driver for the e2e control plane's worker.

It is Octavia's no-op network driver (no amphora is ever plugged), except for ``deallocate_vip``,
which is the allowed-address-pairs driver's: the API side allocates each VIP as a real Neutron port
(so a floating IP can go on it), and deleting the load balancer must delete that port again.
Registered under the entry point ``octavia.network.drivers: e2e_noop_vip_cleanup_driver`` by a
dist-info that start.sh writes next to this module.
"""
from octavia.network.drivers.noop_driver.driver import NoopNetworkDriver


class NoopVipCleanupNetworkDriver(NoopNetworkDriver):
    def __init__(self):
        super().__init__()
        self._neutron_driver = None

    def deallocate_vip(self, vip):
        super().deallocate_vip(vip)
        if self._neutron_driver is None:
            # Imported late: it builds a Neutron client from [service_auth].
            from octavia.network.drivers.neutron.allowed_address_pairs import (
                AllowedAddressPairsDriver,
            )

            self._neutron_driver = AllowedAddressPairsDriver()
        self._neutron_driver.deallocate_vip(vip)
