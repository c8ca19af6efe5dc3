import sys
import sushy
from sushy import auth
url, user, pw, path = sys.argv[1:5]
a = auth.SessionAuth(username=user, password=pw)
s = sushy.Sushy(url + "/redfish/v1", auth=a)
system = s.get_system(path)
print("power", system.power_state)
system.reset_system(sushy.ResetType.ON)
system.refresh()
print("power", system.power_state)
system.set_system_boot_options(sushy.BootSource.PXE, enabled=sushy.BootSourceOverrideEnabled.CONTINUOUS)
system.refresh()
print("boot", system.boot.target, system.boot.enabled)
system.reset_system(sushy.ResetType.FORCE_OFF)
system.refresh()
print("power", system.power_state)
a.close()
