//! Sensor readings reported by the management interface.

/// The kind of a sensor.
///
/// ```
/// use hwctl_core::SensorKind;
/// let kind: SensorKind = serde_json::from_str("\"fan\"")?;
/// assert_eq!(kind, SensorKind::Fan);
/// assert_eq!(serde_json::to_string(&SensorKind::Temperature)?, "\"temperature\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SensorKind {
    /// Temperature, in degrees Celsius.
    Temperature,
    /// Fan speed, in RPM.
    Fan,
    /// Voltage, in volts.
    Voltage,
    /// Current, in amperes.
    Current,
    /// Power, in watts.
    Power,
    /// Anything else.
    Other,
}

/// One sensor reading.
///
/// ```
/// use hwctl_core::{SensorKind, SensorReading};
/// let r = SensorReading { kind: SensorKind::Temperature, name: "CPU1 Temp".into(),
///                         value: Some(41.0), unit: "degrees C".into(), status: "ok".into() };
/// assert_eq!(r.value, Some(41.0));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SensorReading {
    /// What the sensor measures.
    pub kind: SensorKind,
    /// The device's name for the sensor.
    pub name: String,
    /// The reading in `unit`, or `None` when the sensor has no reading now.
    pub value: Option<f64>,
    /// The unit of `value`, in one vocabulary across drivers: `degrees C`,
    /// `degrees F`, `volts`, `amperes`, `watts`, `RPM`, `percent`, and
    /// `discrete` for a sensor whose reading is a set of states (IPMI); a unit
    /// outside it as the device names it, `unspecified` where the device's unit
    /// code is not one of these.
    pub unit: String,
    /// The device's status for the sensor (`ok`, `critical`, `unavailable`, …).
    pub status: String,
}
