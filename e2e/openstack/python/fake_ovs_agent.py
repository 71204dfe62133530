"""Registers a fake Open vSwitch L2 agent with neutron-server, so that ML2's openvswitch mechanism
driver can bind ports on the compute host (otherwise servers fail with PortBindingFailed).

It sends report_state over RPC, as the real agent's first report does (start_flag, bridge mappings,
tunnel types), waits for the server's answer and exits. neutron-server runs with agent_down_time of
a year, so one report keeps the agent alive. No datapath exists behind it.

    /usr/bin/python3 fake_ovs_agent.py --config-file neutron.conf --host HOST \
        --physnet physnet1 --bridge br-ex [--timeout 120]
"""
import argparse
import os
import signal
import sys
import time

from neutron.agent import rpc as agent_rpc
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_config
from neutron_lib import context
from neutron_lib.agent import topics
from oslo_config import cfg
import oslo_messaging


def agent_state(host: str, physnet: str, bridge: str) -> dict:
    return {
        "binary": "neutron-openvswitch-agent",
        "host": host,
        "topic": "N/A",
        "agent_type": "Open vSwitch agent",
        "start_flag": True,
        "configurations": {
            "bridge_mappings": {physnet: bridge},
            "tunnel_types": ["vxlan"],
            "tunneling_ip": "127.0.0.1",
            "integration_bridge": "br-int",
            "datapath_type": "system",
            "ovs_capabilities": {"datapath_types": ["system"], "iface_types": ["internal", "vxlan"]},
            "ovs_hybrid_plug": False,
            "l2_population": False,
            "arp_responder_enabled": False,
            "enable_distributed_routing": False,
            "log_agent_heartbeats": False,
            "extensions": [],
            "baremetal_smartnic": False,
            "devices": 0,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--physnet", required=True)
    parser.add_argument("--bridge", default="br-ex")
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()
    # A hard bound, whatever the messaging library does while RabbitMQ is unreachable.
    signal.signal(signal.SIGALRM, lambda *_: (
        print(f"fake OVS agent: no answer within {args.timeout + 30}s", file=sys.stderr),
        sys.stderr.flush(), os._exit(1)))
    signal.alarm(args.timeout + 30)

    common_config.register_common_config_options()
    agent_config.register_agent_state_opts_helper(cfg.CONF)
    common_config.init(["--config-file", args.config_file])
    cfg.CONF.set_override("report_interval", 10, "AGENT")  # the RPC call's timeout
    api = agent_rpc.PluginReportStateAPI(topics.REPORTS)
    ctx = context.get_admin_context_without_session()

    deadline = time.monotonic() + args.timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            status = api.report_state(ctx, agent_state(args.host, args.physnet, args.bridge),
                                      use_call=True)
            print(f"fake OVS agent on {args.host}: report_state answered {status!r} "
                  f"(attempt {attempt})")
            return 0
        except oslo_messaging.MessagingTimeout:
            if time.monotonic() >= deadline:
                print(f"fake OVS agent: neutron-server did not answer report_state within "
                      f"{args.timeout}s ({attempt} attempts)", file=sys.stderr)
                return 1
            time.sleep(1)


if __name__ == "__main__":
    code = main()
    # oslo.messaging's connection threads would hold the interpreter's exit for ~10 s.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
