//! AMT's error conditions → [`ErrorKind`], as tables in code (the README's tables
//! list the same rows).
//!
//! - CIM method `ReturnValue`s (DMTF DSP1027 / the CIM schema's `ValueMap` for
//!   `RequestPowerStateChange`, `ChangeBootOrder`, `SetBootConfigRole`);
//! - SOAP fault subcodes (DSP0226 §14, WS-Addressing, WS-Enumeration);
//! - HTTP statuses and transport failures are hwctl-http's table.
//!
//! ```
//! use hwctl_amt::errors;
//! use hwctl_core::ErrorKind;
//! assert_eq!(errors::return_value_kind(4099), ErrorKind::Busy);
//! assert!(errors::RETURN_VALUES.iter().all(|(v, _, _)| *v != 0));
//! assert!(errors::FAULT_SUBCODES.contains(&("AccessDenied", ErrorKind::PermissionDenied)));
//! ```

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
///
/// ```
/// use hwctl_amt::errors::return_value_meaning;
/// assert_eq!(return_value_meaning(0), "Completed with No Error");
/// assert_eq!(return_value_meaning(6), "In Use");
/// assert_eq!(return_value_meaning(40_000), "Vendor Specific");
/// assert_eq!(return_value_meaning(77), "Reserved");
/// ```
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
///
/// ```
/// use hwctl_amt::errors::return_value_kind;
/// use hwctl_core::ErrorKind;
/// assert_eq!(return_value_kind(1), ErrorKind::Unsupported);
/// assert_eq!(return_value_kind(3), ErrorKind::Timeout);
/// assert_eq!(return_value_kind(77), ErrorKind::DeviceFault);
/// ```
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
///
/// ```
/// use hwctl_amt::errors::check_return_value;
/// use hwctl_core::ErrorKind;
/// assert!(check_return_value("ChangeBootOrder", 0).is_ok());
/// let err = check_return_value("RequestPowerStateChange", 1).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Unsupported);
/// assert!(err.to_string().contains("RequestPowerStateChange returned ReturnValue 1 (Not Supported)"));
/// ```
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
///
/// ```
/// use hwctl_amt::{errors::fault_kind, wire::SoapFault};
/// use hwctl_core::ErrorKind;
/// let fault = |code: &str, subcode: &str| SoapFault {
///     code: code.into(),
///     subcode: subcode.into(),
///     reason: String::new(),
///     detail: String::new(),
/// };
/// assert_eq!(fault_kind(&fault("s:Sender", "e:TimedOut")), ErrorKind::Timeout);
/// assert_eq!(fault_kind(&fault("s:Sender", "x:Unknown")), ErrorKind::InvalidParameter);
/// assert_eq!(fault_kind(&fault("s:Receiver", "x:Unknown")), ErrorKind::DeviceFault);
/// ```
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
///
/// ```
/// use hwctl_amt::{errors::fault_error, wire::SoapFault};
/// let fault = SoapFault {
///     code: "a:Sender".into(),
///     subcode: "b:ActionNotSupported".into(),
///     reason: "not here".into(),
///     detail: "PowerState".into(),
/// };
/// let err = fault_error(&fault);
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::Unsupported);
/// assert!(err.to_string().contains("SOAP fault a:Sender / b:ActionNotSupported: not here (PowerState)"));
/// ```
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
