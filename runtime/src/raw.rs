//! [`RawJson`]: a JSON value kept as the text it arrived as.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// Any JSON value, kept byte for byte as it was written.
///
/// A [`Value`](serde_json::Value) parses numbers into `u64`, `i64` or
/// `f64`, so 123456789012345678901234567890 comes back as
/// 1.2345678901234568e29. A `RawJson` field is not parsed at all: it
/// serializes back exactly as it came, which is what a handler that only
/// passes a payload on (an echo, a log entry, a forwarded value) wants.
///
/// ```
/// use glomers::RawJson;
///
/// let big: RawJson = serde_json::from_str("123456789012345678901234567890").unwrap();
/// assert_eq!(serde_json::to_string(&big).unwrap(), "123456789012345678901234567890");
/// let value: Vec<u64> = RawJson::new("[1, 2]").unwrap().parse().unwrap();
/// assert_eq!(value, [1, 2]);
/// ```
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The value whose JSON text is `json`; an error if it is not JSON.
    pub fn new(json: impl Into<String>) -> Result<Self, serde_json::Error> {
        RawValue::from_string(json.into()).map(RawJson)
    }

    /// The value of `value`, serialized.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(RawJson)
    }

    /// The JSON text, as received.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The value parsed as `T`.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(RawJson)
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.0.get())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

impl PartialEq for RawJson {
    /// Equal when the texts are equal (`1.0` and `1` are not).
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}
