//! `completionCode`: the chassis manager's status enum, and how each value maps to
//! an [`ErrorKind`].

use std::fmt;

use hwctl_core::{Error, ErrorKind, Result};

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $value:literal => $kind:ident, $retry:literal; )*) => {
        /// A `completionCode` of the OCS v2.0 contract (`CompletionCode` enum), as the
        /// chassis manager serialises it: by name.
        ///
        /// ```
        /// use hwctl_ocs::wire::CompletionCode;
        /// use hwctl_core::ErrorKind;
        /// let c: CompletionCode = "SerialSessionActive".parse().unwrap();
        /// assert_eq!(c.value(), Some(0xA6));
        /// assert_eq!(c.error_kind(), Some(ErrorKind::Busy));
        /// assert_eq!(CompletionCode::Success.error_kind(), None);
        /// ```
        #[non_exhaustive]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum CompletionCode {
            $( $(#[$doc])* $name, )*
            /// A name the contract does not define (kept verbatim); treated as a device fault.
            Unrecognized(String),
        }

        impl CompletionCode {
            /// Every code the contract defines, in contract order.
            pub const ALL: &'static [CompletionCode] = &[ $( CompletionCode::$name, )* ];

            /// The name as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( CompletionCode::$name => stringify!($name), )*
                    CompletionCode::Unrecognized(s) => s,
                }
            }

            /// The byte value of the contract enum (`None` for an unrecognized name).
            pub fn value(&self) -> Option<u8> {
                match self {
                    $( CompletionCode::$name => Some($value), )*
                    CompletionCode::Unrecognized(_) => None,
                }
            }

            /// The error kind of a failure with this code; `None` for `Success`.
            pub fn error_kind(&self) -> Option<ErrorKind> {
                if self.is_success() {
                    return None;
                }
                match self {
                    $( CompletionCode::$name => Some(ErrorKind::$kind), )*
                    CompletionCode::Unrecognized(_) => Some(ErrorKind::DeviceFault),
                }
            }

            /// Whether a failure with this code is worth retrying unchanged.
            pub fn is_retryable(&self) -> bool {
                match self {
                    $( CompletionCode::$name => $retry, )*
                    CompletionCode::Unrecognized(_) => false,
                }
            }
        }

        impl std::str::FromStr for CompletionCode {
            type Err = std::convert::Infallible;

            /// Parses a name; an unknown name becomes [`CompletionCode::Unrecognized`].
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                let s = s.trim();
                Ok(match s {
                    $( stringify!($name) => CompletionCode::$name, )*
                    other => CompletionCode::Unrecognized(other.to_owned()),
                })
            }
        }
    };
}

codes! {
    /// The command succeeded.
    Success = 0x00 => Other, false;
    /// The command failed (generic).
    Failure = 0xFF => DeviceFault, false;
    /// The chassis manager timed out talking to the blade.
    Timeout = 0xA3 => Timeout, true;
    /// The outcome is unknown.
    Unknown = 0xA4 => DeviceFault, false;
    /// A parameter (blade id, boot type, …) is out of range.
    ParameterOutOfRange = 0xA5 => InvalidParameter, false;
    /// A serial session is active on the blade; other blade commands are refused.
    SerialSessionActive = 0xA6 => Busy, true;
    /// The user account already exists.
    UserAccountExists = 0xA7 => DeviceFault, false;
    /// The password does not meet the requirements.
    UserPasswordDoesNotMeetRequirement = 0xA8 => InvalidParameter, false;
    /// The command is not valid for this kind of blade.
    CommandNotValidForBlade = 0xA9 => Unsupported, false;
    /// No such user.
    UserNotFound = 0xB0 => NotFound, false;
    /// The blade is powered off.
    DevicePoweredOff = 0xB1 => DeviceFault, false;
    /// No serial session is active (or the token is stale).
    NoActiveSerialSession = 0xB2 => NotFound, false;
    /// The chassis has no fans.
    FanlessChassis = 0xB3 => Unsupported, false;
    /// FRU write at offset zero refused.
    WriteFruZeroStartingOffset = 0xB4 => InvalidParameter, false;
    /// FRU field too long.
    WriteFruMaxFieldLengthReached = 0xB5 => InvalidParameter, false;
    /// FRU record too large.
    WriteFruMaxRecordSizeReached = 0xB6 => InvalidParameter, false;
    /// No FRU writes remaining.
    WriteFruZeroWritesRemaining = 0xB7 => DeviceFault, false;
    /// Delayed by a pending datasafe operation.
    RequestDelayedDueToPendingDatasafeOperation = 0xB8 => Busy, true;
    /// Failed because of a pending datasafe operation.
    RequestFailedDueToPendingDatasafeOperation = 0xB9 => Busy, true;
    /// The command is not valid now.
    CommandNotValidAtThisTime = 0xBF => Busy, true;
    /// A PSU firmware update is in progress.
    PSUFirmwareUpdateInProgress = 0xC0 => Busy, true;
    /// The blade firmware is decompressing; try again shortly.
    FirmwareDecompressing = 0xEE => Busy, true;
}

/// The longest `statusDescription` an error message carries (the reply is the
/// peer's: its text is cut and its control characters blanked).
const MAX_DESCRIPTION_CHARS: usize = 200;

/// The longest unrecognized completion code an error message carries.
const MAX_CODE_CHARS: usize = 64;

impl CompletionCode {
    /// Whether this is `Success`.
    pub fn is_success(&self) -> bool {
        *self == CompletionCode::Success
    }
}

impl fmt::Display for CompletionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            Some(v) => write!(f, "{} (0x{v:02X})", self.as_str()),
            None => write!(
                f,
                "{:?} (not a contract code)",
                super::excerpt(self.as_str(), MAX_CODE_CHARS)
            ),
        }
    }
}

/// The common head of every reply: `completionCode`, `apiVersion`, `statusDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The completion code.
    pub completion_code: CompletionCode,
    /// `apiVersion`, when present (1 on v2.0 chassis managers).
    pub api_version: Option<u32>,
    /// `statusDescription` (empty when the element is empty or absent).
    pub status_description: String,
}

impl Status {
    /// `Ok` on `Success`; otherwise the mapped error. The error's message names the
    /// code and keeps the `statusDescription`; its source is a [`CompletionError`].
    ///
    /// ```
    /// use hwctl_ocs::wire::{CompletionCode, Status};
    /// let s = Status {
    ///     completion_code: CompletionCode::ParameterOutOfRange,
    ///     api_version: Some(1),
    ///     status_description: "Blade ID out of range".into(),
    /// };
    /// let e = s.check().unwrap_err();
    /// assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// assert!(e.to_string().contains("Blade ID out of range"));
    /// ```
    ///
    /// # Errors
    ///
    /// The completion code's kind (see [`CompletionCode::error_kind`]) for any code
    /// but `Success`, with the status description.
    pub fn check(&self) -> Result<()> {
        let Some(kind) = self.completion_code.error_kind() else {
            return Ok(());
        };
        let mut message = format!("chassis manager answered {}", self.completion_code);
        if !self.status_description.is_empty() {
            message.push_str(": ");
            message.push_str(&super::excerpt(
                &self.status_description,
                MAX_DESCRIPTION_CHARS,
            ));
        }
        Err(Error::new(kind, message)
            .with_retryable(self.completion_code.is_retryable())
            .with_source(CompletionError {
                code: self.completion_code.clone(),
                description: self.status_description.clone(),
            }))
    }
}

/// The source of every error made from a non-`Success` completion code, so callers
/// can read the exact code back with `downcast_ref`.
///
/// ```
/// use hwctl_ocs::wire::{CompletionCode, CompletionError, Status};
/// let s = Status { completion_code: CompletionCode::Timeout, api_version: None,
///                  status_description: String::new() };
/// let e = s.check().unwrap_err();
/// let src = std::error::Error::source(&e).unwrap().downcast_ref::<CompletionError>().unwrap();
/// assert_eq!(src.code, CompletionCode::Timeout);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionError {
    /// The code the chassis manager answered.
    pub code: CompletionCode,
    /// Its `statusDescription`.
    pub description: String,
}

impl fmt::Display for CompletionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "completion code {}", self.code)?;
        if !self.description.is_empty() {
            write!(
                f,
                ": {}",
                super::excerpt(&self.description, MAX_DESCRIPTION_CHARS)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for CompletionError {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_hostile_description_or_code_cannot_flood_the_message() {
        let status = Status {
            completion_code: format!("Bad{}", "c".repeat(50_000)).parse().unwrap(),
            api_version: None,
            status_description: format!("line1\r\nforged log line\x1b[31m{}", "d".repeat(100_000)),
        };
        let e = status.check().unwrap_err();
        let source = std::error::Error::source(&e).unwrap().to_string();
        for text in [e.to_string(), source] {
            assert!(text.chars().count() < 700, "{} chars", text.chars().count());
            assert!(!text.chars().any(char::is_control), "{text:?}");
            assert!(text.contains("forged log line"), "{text:?}");
        }
        // The exact text stays available to callers.
        let src = std::error::Error::source(&e)
            .unwrap()
            .downcast_ref::<CompletionError>()
            .unwrap();
        assert_eq!(src.description.len(), status.status_description.len());
    }

    #[test]
    fn names_round_trip_and_values_are_the_contract_ones() {
        assert_eq!(CompletionCode::ALL.len(), 22);
        for c in CompletionCode::ALL {
            assert_eq!(c.as_str().parse::<CompletionCode>().unwrap(), *c);
        }
        assert_eq!(CompletionCode::FirmwareDecompressing.value(), Some(0xEE));
        assert_eq!(CompletionCode::NoActiveSerialSession.value(), Some(0xB2));
        assert_eq!(CompletionCode::Failure.value(), Some(0xFF));
        assert_eq!(
            "Fail".parse::<CompletionCode>().unwrap(),
            CompletionCode::Unrecognized("Fail".into())
        );
    }

    #[test]
    fn the_mapping_table() {
        use ErrorKind::*;
        let table = [
            ("Success", None, false),
            ("Failure", Some(DeviceFault), false),
            ("Timeout", Some(Timeout), true),
            ("Unknown", Some(DeviceFault), false),
            ("ParameterOutOfRange", Some(InvalidParameter), false),
            ("SerialSessionActive", Some(Busy), true),
            ("UserAccountExists", Some(DeviceFault), false),
            (
                "UserPasswordDoesNotMeetRequirement",
                Some(InvalidParameter),
                false,
            ),
            ("CommandNotValidForBlade", Some(Unsupported), false),
            ("UserNotFound", Some(NotFound), false),
            ("DevicePoweredOff", Some(DeviceFault), false),
            ("NoActiveSerialSession", Some(NotFound), false),
            ("FanlessChassis", Some(Unsupported), false),
            ("WriteFruZeroStartingOffset", Some(InvalidParameter), false),
            (
                "WriteFruMaxFieldLengthReached",
                Some(InvalidParameter),
                false,
            ),
            (
                "WriteFruMaxRecordSizeReached",
                Some(InvalidParameter),
                false,
            ),
            ("WriteFruZeroWritesRemaining", Some(DeviceFault), false),
            (
                "RequestDelayedDueToPendingDatasafeOperation",
                Some(Busy),
                true,
            ),
            (
                "RequestFailedDueToPendingDatasafeOperation",
                Some(Busy),
                true,
            ),
            ("CommandNotValidAtThisTime", Some(Busy), true),
            ("PSUFirmwareUpdateInProgress", Some(Busy), true),
            ("FirmwareDecompressing", Some(Busy), true),
            ("Fail", Some(DeviceFault), false),
        ];
        for (name, kind, retry) in table {
            let status = Status {
                completion_code: name.parse().unwrap(),
                api_version: Some(1),
                status_description: format!("desc of {name}"),
            };
            match (status.check(), kind) {
                (Ok(()), None) => {}
                (Err(e), Some(k)) => {
                    assert_eq!(e.kind(), k, "{name}");
                    assert_eq!(e.is_retryable(), retry, "{name}");
                    assert!(e.to_string().contains(&format!("desc of {name}")), "{e}");
                    assert!(e.to_string().contains(name), "{e}");
                }
                (r, k) => panic!("{name}: {r:?} vs {k:?}"),
            }
        }
    }
}
