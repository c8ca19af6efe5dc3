// Prints Intel's own request envelopes (npm @open-amt-cloud-toolkit/wsman-messages)
// as JSON {name: xml}, for hw-amt's element-by-element comparison.
const w = require('@open-amt-cloud-toolkit/wsman-messages');
const cim = new w.CIM.Messages();
const amt = new w.AMT.Messages();
const out = {};
for (const s of [2, 8, 12, 10, 14, 5]) {
  out['RequestPowerStateChange_' + s] = cim.PowerManagementService.RequestPowerStateChange(s);
}
out['ChangeBootOrder_pxe'] = cim.BootConfigSetting.ChangeBootOrder('Intel(r) AMT: Force PXE Boot');
out['ChangeBootOrder_disk'] = cim.BootConfigSetting.ChangeBootOrder('Intel(r) AMT: Force Hard-drive Boot');
out['ChangeBootOrder_cdrom'] = cim.BootConfigSetting.ChangeBootOrder('Intel(r) AMT: Force CD/DVD Boot');
out['ChangeBootOrder_clear'] = cim.BootConfigSetting.ChangeBootOrder();
out['SetBootConfigRole'] = cim.BootService.SetBootConfigRole('Intel(r) AMT: Boot Configuration 0', 1);
out['Get_BootSettingData'] = amt.BootSettingData.Get();
out['Enumerate_BootSourceSetting'] = cim.BootSourceSetting.Enumerate();
out['Pull_BootSourceSetting'] = cim.BootSourceSetting.Pull('DD020000-0000-0000-0000-000000000000');
process.stdout.write(JSON.stringify(out));
