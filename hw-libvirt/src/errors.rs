//! libvirt's error conditions → [`hwctl_core::ErrorKind`]: the table the README's errors
//! section describes, in code.

use hwctl_core::{Error, ErrorKind};
use virt::error::{ErrorDomain, ErrorNumber};

use crate::NAME;

/// Maps a libvirt error to our kind.
pub(crate) fn kind_of(e: &virt::error::Error) -> ErrorKind {
    use ErrorNumber as N;
    let Some(code) = e.code().known() else {
        return ErrorKind::Other;
    };
    match code {
        N::NoDomain => ErrorKind::NotFound,
        N::AuthFailed | N::AuthCancelled | N::AuthUnavailable => ErrorKind::Unauthenticated,
        N::AccessDenied | N::OperationDenied => ErrorKind::PermissionDenied,
        N::NoConnect | N::InvalidConn | N::NoServer | N::Rpc | N::Ssh | N::Libssh => {
            ErrorKind::Unreachable
        }
        N::SystemError
            if e.domain().known().is_some_and(|d| {
                matches!(d, ErrorDomain::Rpc | ErrorDomain::Remote | ErrorDomain::Ssh)
            }) =>
        {
            ErrorKind::Unreachable
        }
        N::OperationTimeout | N::AgentUnresponsive | N::AgentCommandTimeout => ErrorKind::Timeout,
        N::ResourceBusy => ErrorKind::Busy,
        N::OperationFailed
            if e.message().contains("Active console session")
                || e.message().contains("console session exists") =>
        {
            ErrorKind::Busy
        }
        N::NoSupport | N::OperationUnsupported | N::ArgumentUnsupported | N::ConfigUnsupported => {
            ErrorKind::Unsupported
        }
        N::InvalidArg => ErrorKind::InvalidParameter,
        N::XmlError
        | N::XmlDetail
        | N::XmlInvalidSchema
        | N::OperationInvalid
        | N::OperationFailed
        | N::InternalError
        | N::DomExist
        | N::CallFailed => ErrorKind::DeviceFault,
        _ => ErrorKind::Other,
    }
}

/// The kind of a failure to open a connection to `uri`.
///
/// Refused credentials keep their kind. A connection to libvirt's in-process test
/// driver (`test://`) cannot be unreachable: whatever stops it opening is in the node
/// file the URI names (not XML, a domain without a name, an unknown domain type, two
/// domains of one name, …), so it is the user's input, [`ErrorKind::InvalidParameter`].
/// So are XML and configuration errors from any driver. Anything else while opening
/// means the hypervisor could not be reached: [`ErrorKind::Unreachable`].
pub(crate) fn open_kind(uri: &str, e: &virt::error::Error) -> ErrorKind {
    use ErrorNumber as N;
    match kind_of(e) {
        k @ (ErrorKind::Unauthenticated | ErrorKind::PermissionDenied) => k,
        _ if uri.starts_with("test:") => ErrorKind::InvalidParameter,
        _ if e.code().known().is_some_and(|c| {
            matches!(
                c,
                N::XmlError | N::XmlDetail | N::XmlInvalidSchema | N::NoName | N::ConfigUnsupported
            )
        }) =>
        {
            ErrorKind::InvalidParameter
        }
        _ => ErrorKind::Unreachable,
    }
}

/// A libvirt error as ours, with the message and the source kept; the driver is
/// [`NAME`] and the operation the libvirt call (`create domain`, …).
pub(crate) fn map_err(op: &'static str, e: virt::error::Error) -> Error {
    let kind = kind_of(&e);
    Error::new(kind, format!("libvirt call failed: {}", e.message()))
        .with_driver(NAME)
        .with_operation(op)
        .with_source(e)
}
