//! AMT's error conditions → [`ErrorKind`], as tables in code (the README's tables
//! list the same rows).
//!
//! - CIM method `ReturnValue`s (DMTF DSP1027 / the CIM schema's `ValueMap` for
//!   `RequestPowerStateChange`, `ChangeBootOrder`, `SetBootConfigRole`);
//! - SOAP fault subcodes (DSP0226 §14, WS-Addressing, WS-Enumeration);
//! - HTTP statuses and transport failures are hwctl-http's table.

use hwctl_core::{Error, ErrorKind};

use crate::wire::SoapFault;

/// `ReturnValue` → (meaning, kind). 0 is success and not listed.
pub const RETURN_VALUES: &[(u32, &str, ErrorKind)] = &[
    (1, "Not Supported", ErrorKind::Unsupported),
    (
        2,
        "Unknown or Unspecified Error (failed)",
        ErrorKind::DeviceFault,
    ),
    (
        3,
        "Cannot complete within Timeout Period",
        ErrorKind::Timeout,
    ),
    (4, "Failed", ErrorKind::DeviceFault),
    (5, "Invalid Parameter", ErrorKind::InvalidParameter),
    (6, "In Use", ErrorKind::Busy),
    (
        4096,
        "Method Parameters Checked - Job Started",
        ErrorKind::Busy,
    ),
    (
        4097,
        "Invalid State Transition",
        ErrorKind::InvalidParameter,
    ),
    (
        4098,
        "Use of Timeout Parameter Not Supported",
        ErrorKind::Unsupported,
    ),
    (4099, "Busy", ErrorKind::Busy),
];

/// The meaning of a `ReturnValue` (`"Vendor Specific"` above 32767, `"Reserved"`
/// otherwise when unknown).
pub fn return_value_meaning(value: u32) -> &'static str {
    if value == 0 {
        return "Completed with No Error";
    }
    RETURN_VALUES
        .iter()
        .find(|(v, _, _)| *v == value)
        .map(|(_, m, _)| *m)
        .unwrap_or(if value >= 32768 {
            "Vendor Specific"
        } else {
            "Reserved"
        })
}

/// The kind of a non-zero `ReturnValue` (`DeviceFault` when unknown).
pub fn return_value_kind(value: u32) -> ErrorKind {
    RETURN_VALUES
        .iter()
        .find(|(v, _, _)| *v == value)
        .map_or(ErrorKind::DeviceFault, |(_, _, k)| *k)
}

/// Ok for 0, else the error of `method`'s `ReturnValue`, naming the value and its
/// meaning.
///
/// # Errors
///
/// The kind of [`RETURN_VALUES`] (`Unsupported`, `DeviceFault`, `Timeout`,
/// `InvalidParameter`, `Busy`), `DeviceFault` for values not listed.
pub fn check_return_value(method: &str, value: u32) -> Result<(), Error> {
    if value == 0 {
        return Ok(());
    }
    Err(Error::new(
        return_value_kind(value),
        format!(
            "{method} returned ReturnValue {value} ({})",
            return_value_meaning(value)
        ),
    ))
}

/// SOAP fault subcode (local name) → kind.
pub const FAULT_SUBCODES: &[(&str, ErrorKind)] = &[
    ("AccessDenied", ErrorKind::PermissionDenied),
    ("DestinationUnreachable", ErrorKind::NotFound),
    ("ActionNotSupported", ErrorKind::Unsupported),
    ("UnsupportedFeature", ErrorKind::Unsupported),
    ("InvalidSelectors", ErrorKind::InvalidParameter),
    ("InvalidParameter", ErrorKind::InvalidParameter),
    ("InvalidValue", ErrorKind::InvalidParameter),
    ("SchemaValidationError", ErrorKind::InvalidParameter),
    ("InvalidRepresentation", ErrorKind::InvalidParameter),
    ("InvalidMessageInformationHeader", ErrorKind::Protocol),
    ("InvalidEnumerationContext", ErrorKind::Protocol),
    ("TimedOut", ErrorKind::Timeout),
    ("Concurrency", ErrorKind::Busy),
    ("QuotaLimit", ErrorKind::Busy),
    ("InternalError", ErrorKind::DeviceFault),
];

/// The kind of a SOAP fault: by subcode, else `InvalidParameter` for a `Sender`
/// fault and `DeviceFault` for a `Receiver` one.
pub fn fault_kind(fault: &SoapFault) -> ErrorKind {
    let sub = fault.subcode_name();
    if let Some((_, k)) = FAULT_SUBCODES.iter().find(|(n, _)| *n == sub) {
        return *k;
    }
    if fault.code.ends_with("Sender") {
        ErrorKind::InvalidParameter
    } else {
        ErrorKind::DeviceFault
    }
}

/// The error of a SOAP fault: its kind, code, subcode and reason.
pub fn fault_error(fault: &SoapFault) -> Error {
    let mut msg = format!("SOAP fault {}", fault.code);
    if !fault.subcode.is_empty() {
        msg.push_str(&format!(" / {}", fault.subcode));
    }
    if !fault.reason.is_empty() {
        msg.push_str(&format!(
            ": {}",
            fault.reason.chars().take(200).collect::<String>()
        ));
    }
    if !fault.detail.is_empty() {
        msg.push_str(&format!(
            " ({})",
            fault.detail.chars().take(200).collect::<String>()
        ));
    }
    Error::new(fault_kind(fault), msg)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn return_values_name_value_and_meaning() {
        assert!(check_return_value("RequestPowerStateChange", 0).is_ok());
        let e = check_return_value("RequestPowerStateChange", 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(
            e.to_string().contains("ReturnValue 1 (Not Supported)"),
            "{e}"
        );
        let e = check_return_value("ChangeBootOrder", 5).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(
            check_return_value("X", 2).unwrap_err().kind(),
            ErrorKind::DeviceFault
        );
        let e = check_return_value("X", 4096).unwrap_err();
        assert!(e.to_string().contains("Job Started"), "{e}");
        assert_eq!(return_value_meaning(40000), "Vendor Specific");
        assert_eq!(return_value_kind(77), ErrorKind::DeviceFault);
    }

    #[test]
    fn faults_by_subcode_then_code() {
        let f = |code: &str, sub: &str| SoapFault {
            code: code.into(),
            subcode: sub.into(),
            reason: "r".into(),
            detail: String::new(),
        };
        assert_eq!(
            fault_kind(&f("a:Sender", "b:DestinationUnreachable")),
            ErrorKind::NotFound
        );
        assert_eq!(
            fault_kind(&f("s:Sender", "w:AccessDenied")),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            fault_kind(&f("s:Sender", "x:Whatever")),
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            fault_kind(&f("s:Receiver", "x:Whatever")),
            ErrorKind::DeviceFault
        );
        let e = fault_error(&f("a:Sender", "b:ActionNotSupported"));
        assert!(e.to_string().contains("b:ActionNotSupported: r"), "{e}");
    }
}
