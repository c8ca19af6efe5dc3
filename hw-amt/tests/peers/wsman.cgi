#!/bin/sh
# A tiny WS-Management endpoint behind a real digest server (lighttpd, Apache):
# answers an Enumerate of CIM_AssociatedPowerManagementService (optimized: items in
# the reply) and RequestPowerStateChange, in the shape of go-wsman-messages' replies.
body=$(head -c "${CONTENT_LENGTH:-0}")
printf 'Content-Type: application/soap+xml; charset=UTF-8\r\n\r\n'
H='<?xml version="1.0" encoding="UTF-8"?><a:Envelope xmlns:a="http://www.w3.org/2003/05/soap-envelope" xmlns:b="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:c="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:g="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><a:Header><b:RelatesTo>1</b:RelatesTo></a:Header><a:Body>'
case "$body" in
  *RequestPowerStateChange_INPUT*)
    printf '%s<g:RequestPowerStateChange_OUTPUT xmlns:g="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService"><g:ReturnValue>0</g:ReturnValue></g:RequestPowerStateChange_OUTPUT></a:Body></a:Envelope>' "$H" ;;
  *Enumerate*)
    printf '%s<g:EnumerateResponse><c:Items><h:CIM_AssociatedPowerManagementService xmlns:h="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService"><h:AvailableRequestedPowerStates>2</h:AvailableRequestedPowerStates><h:PowerState>8</h:PowerState></h:CIM_AssociatedPowerManagementService></c:Items><c:EndOfSequence/></g:EnumerateResponse></a:Body></a:Envelope>' "$H" ;;
  *)
    printf '%s<a:Fault><a:Code><a:Value>a:Sender</a:Value><a:Subcode><a:Value>b:ActionNotSupported</a:Value></a:Subcode></a:Code><a:Reason><a:Text>not here</a:Text></a:Reason></a:Fault></a:Body></a:Envelope>' "$H" ;;
esac
