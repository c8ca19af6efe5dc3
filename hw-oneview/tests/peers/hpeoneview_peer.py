"""HPE's hpeOneView SDK driving our OneView simulator over TLS with a custom CA.

argv: host:port user password ca_file server_hardware_uri phase
phase "set": login (version check), power on with task polling, the iLO's
remote console URL, the profile's boot order put with PXE first (a task).
phase "read": prints power state and boot order (set by hwctl).
"""
import json
import sys

from hpeOneView.oneview_client import OneViewClient

host, user, password, ca, sh_uri, phase = sys.argv[1:7]
ov = OneViewClient({"ip": host, "credentials": {"userName": user, "password": password},
                    "ssl_certificate": ca})
sh = ov.server_hardware.get_by_uri(sh_uri)
out = {"api_version": ov.connection._apiVersion}
profile = ov.server_profiles.get_by_uri(sh.data["serverProfileUri"])
if phase == "set":
    out["before"] = sh.data["powerState"]
    sh.update_power_state({"powerState": "On", "powerControl": "MomentaryPress"})
    sh.refresh()
    out["after"] = sh.data["powerState"]
    out["console"] = sh.get_remote_console_url()["remoteConsoleUrl"].split("&")[0]
    order = [d for d in profile.data["boot"]["order"] if d != "PXE"]
    boot = {"manageBoot": True, "order": ["PXE"] + order}
    profile.update({"boot": boot})
    profile.refresh()
    out["order"] = profile.data["boot"]["order"]
else:
    out["power"] = sh.data["powerState"]
    out["order"] = profile.data["boot"]["order"]
ov.connection.logout()
print(json.dumps(out))
