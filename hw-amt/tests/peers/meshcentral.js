// Drives the AMT simulator with MeshCentral's own AMT stack (amt/*.js of the
// meshcentral 1.1.55 package): power state, power change, boot order.
// Usage: node meshcentral.js DIR PORT USER PASS ; prints one JSON line per step.
const dir = process.argv[2], port = +process.argv[3], user = process.argv[4], pass = process.argv[5];
const comm = require(dir + '/amt-wsman-comm.js')('127.0.0.1', port, user, pass, 0);
const wsman = require(dir + '/amt-wsman.js')(comm);
const amt = require(dir + '/amt.js')(wsman);
const say = (o) => console.log(JSON.stringify(o));
const EPR = (uri, sel) => '<Address xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2004/08/addressing</Address><ReferenceParameters xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing"><ResourceURI xmlns="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">' + uri + '</ResourceURI><SelectorSet xmlns="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Selector Name="InstanceID">' + sel + '</Selector></SelectorSet></ReferenceParameters>';
setTimeout(() => { say({ step: 'timeout' }); process.exit(2); }, 20000);
amt.Enum('CIM_ServiceAvailableToElement', (stack, name, responses, status) => {
  say({ step: 'state', status, power: responses && responses[0] && responses[0].Value && responses[0].Value.PowerState });
  amt.RequestPowerStateChange(2, (stack, name, response, status) => {
    say({ step: 'on', status, rv: response && response.Body && response.Body.ReturnValue });
    amt.CIM_BootConfigSetting_ChangeBootOrder(EPR('http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootSourceSetting', 'Intel(r) AMT: Force PXE Boot'), (s, n, r, status) => {
      say({ step: 'order', status, rv: r && r.Body && r.Body.ReturnValue });
      amt.CIM_BootService_SetBootConfigRole(EPR('http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting', 'Intel(r) AMT: Boot Configuration 0'), 1, (s, n, r, status) => {
        say({ step: 'role', status, rv: r && r.Body && r.Body.ReturnValue });
        amt.RequestPowerStateChange(10, (s, n, r, status) => {
          say({ step: 'reset', status, rv: r && r.Body && r.Body.ReturnValue });
          amt.Enum('CIM_ServiceAvailableToElement', (stack, name, responses, status) => {
            say({ step: 'state2', status, power: responses && responses[0] && responses[0].Value && responses[0].Value.PowerState });
            process.exit(0);
          });
        });
      });
    });
  });
});
