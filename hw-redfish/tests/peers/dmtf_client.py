import sys
import redfish
url, user, pw, path = sys.argv[1:5]
c = redfish.redfish_client(base_url=url, username=user, password=pw, default_prefix="/redfish/v1")
c.login(auth="session")
r = c.get(path)
assert r.status == 200, r.status
print("power", r.dict["PowerState"])
r = c.post(path + "/Actions/ComputerSystem.Reset", body={"ResetType": "On"})
assert r.status in (200, 204), (r.status, r.text)
etag = c.get(path).getheader("ETag")
r = c.patch(path, body={"Boot": {"BootSourceOverrideTarget": "Hdd", "BootSourceOverrideEnabled": "Once"}}, headers={"If-Match": etag})
assert r.status in (200, 204), (r.status, r.text)
r = c.get(path)
print("power", r.dict["PowerState"], "boot", r.dict["Boot"]["BootSourceOverrideTarget"], r.dict["Boot"]["BootSourceOverrideEnabled"])
c.logout()
