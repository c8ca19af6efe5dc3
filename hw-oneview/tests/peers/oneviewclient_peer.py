"""Ironic's python-oneviewclient driving our OneView simulator over TLS.

argv: manager_url user password ca_file server_hardware_uri phase
phase "set": version check, power on with task polling, one-time PXE through
the iLO (REQUESTS_CA_BUNDLE = ca_file for that leg), prints what it read.
phase "read": prints power state and boot order (set by hwctl).
"""
import json
import sys

from oneview_client import client

url, user, password, ca, sh_uri, phase = sys.argv[1:7]
c = client.Client(url, user, password, allow_insecure_connections=False,
                  tls_cacert_file=ca, max_polling_attempts=30)
c.verify_oneview_version()
node = {"server_hardware_uri": sh_uri}
out = {"version": c.get_oneview_version()}
if phase == "set":
    out["before"] = c.get_node_power_state(node)
    c.power_on(node)
    out["after"] = c.get_node_power_state(node)
    c.set_boot_device(node, "PXE", onetime=True)
    out["order"] = c.get_boot_order(node)
else:
    out["power"] = c.get_node_power_state(node)
    out["order"] = c.get_boot_order(node)
c._logout()
print(json.dumps(out))
