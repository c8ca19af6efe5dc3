"""Reference: OCS chassis-manager replies parsed as Ironic (ElementTree) and MAAS (lxml) did.

Ironic's msftocs client parsed every reply with `xml.etree.ElementTree.fromstring`,
checked `completionCode` == `Success`, then read the one element it wanted
(`bladeState`). MAAS parsed with `lxml.etree.fromstring` and read elements by
name in the reply's default namespace; for `GetChassisInfo` it walked every
`BladeInfo` for its number and MAC addresses. Inputs are the shared fixtures; the
48-blade reply repeats the captured blade 48 times, as benches/benches/ocs.rs does.
"""

from xml.etree import ElementTree

from common import Report, fixture

NS = "http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts"
Q = "{%s}" % NS


def read(name):
    with open(fixture("msftocs", name), "rb") as f:
        return f.read()


def chassis_48(chassis):
    text = chassis.decode()
    start = text.index("<BladeInfo>")
    end = text.rindex("</BladeInfo>") + len("</BladeInfo>")
    blade = text[start:end]
    blades = "".join(
        blade.replace("<bladeNumber>11</bladeNumber>", "<bladeNumber>%d</bladeNumber>" % n)
        for n in range(1, 49))
    return (text[:start] + blades + text[end:]).encode()


def et_blade_state(data):
    root = ElementTree.fromstring(data)
    code = root.find(".//" + Q + "completionCode")
    if code is None or code.text != "Success":
        raise ValueError("completion code")
    return root.find(".//" + Q + "bladeState").text


def et_chassis(data):
    root = ElementTree.fromstring(data)
    code = root.find(".//" + Q + "completionCode")
    if code is None or code.text != "Success":
        raise ValueError("completion code")
    return [(b.findtext(Q + "bladeNumber"),
             [m.text for m in b.iter(Q + "macAddress")])
            for b in root.iter(Q + "BladeInfo")]


def main():
    report = Report()
    state = read("ironic_BladeStateResponse.xml")
    chassis = read("maas_GetChassisInfo_ChassisInfoResponse.xml")
    big = chassis_48(chassis)
    assert len(et_chassis(big)) == 48
    assert et_blade_state(state) in ("ON", "OFF")
    report.time("ocs/decode_blade_state [ElementTree]", lambda: et_blade_state(state))
    report.time("ocs/decode_chassis_info_1_blade [ElementTree]", lambda: et_chassis(chassis))
    report.time("ocs/decode_chassis_info_48_blades [ElementTree]", lambda: et_chassis(big))
    try:
        from lxml import etree
    except ImportError:
        report.miss("lxml (install with .venv/bin/pip install -r .ci/bench-requirements.txt)")
        report.emit()
        return

    def lx_blade_state(data):
        root = etree.fromstring(data)
        ns = {"ns": root.nsmap[None]}
        if root.findtext(".//ns:completionCode", namespaces=ns) != "Success":
            raise ValueError("completion code")
        return root.findtext(".//ns:bladeState", namespaces=ns)

    def lx_chassis(data):
        root = etree.fromstring(data)
        ns = {"ns": root.nsmap[None]}
        return [(b.findtext("ns:bladeNumber", namespaces=ns),
                 [m.text for m in b.iterfind(".//ns:macAddress", namespaces=ns)])
                for b in root.iterfind(".//ns:BladeInfo", namespaces=ns)]

    assert lx_chassis(big) == et_chassis(big)
    report.time("ocs/decode_blade_state [lxml]", lambda: lx_blade_state(state))
    report.time("ocs/decode_chassis_info_1_blade [lxml]", lambda: lx_chassis(chassis))
    report.time("ocs/decode_chassis_info_48_blades [lxml]", lambda: lx_chassis(big))
    report.emit()


if __name__ == "__main__":
    main()
