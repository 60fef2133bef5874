//! Serde helpers for integers written as JSON/TOML numbers, decimal strings or `0x` hex
//! strings (JSON-RPC "quantities"). They serialize as `0x` hex strings.

use serde::{Deserialize, Deserializer, Serializer, de::Error};

/// A number or a string, as found in configuration files and JSON-RPC requests.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    Num(u64),
    Str(String),
}

/// Parses a decimal or `0x`-prefixed hex string into a `u128`.
fn parse_u128(s: &str) -> Result<u128, String> {
    let s = s.trim();
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some("") => Ok(0),
        Some(hex) => u128::from_str_radix(hex, 16),
        None => s.parse::<u128>(),
    };
    parsed.map_err(|e| format!("invalid quantity {s:?}: {e}"))
}

/// Deserializes a `u128` from a number or a string.
fn de_u128<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
    match NumOrStr::deserialize(d)? {
        NumOrStr::Num(n) => Ok(u128::from(n)),
        NumOrStr::Str(s) => parse_u128(&s).map_err(D::Error::custom),
    }
}

/// Deserializes a `u64` from a number or a string.
fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let value = de_u128(d)?;
    u64::try_from(value).map_err(|_| D::Error::custom(format!("quantity {value} exceeds u64")))
}

/// `u64` fields.
pub(crate) mod u64_quantity {
    use super::*;

    /// Serializes as a `0x` hex string.
    pub(crate) fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:#x}"))
    }

    /// Deserializes from a number, a decimal or a hex string.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        de_u64(d)
    }
}

/// `Option<u64>` fields.
pub(crate) mod opt_u64 {
    use super::*;

    /// Serializes as a `0x` hex string or `null`.
    pub(crate) fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&format!("{v:#x}")),
            None => s.serialize_none(),
        }
    }

    /// Deserializes from `null`, a number, a decimal or a hex string.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(deserialize_with = "de_u64")] u64);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

/// `Option<u128>` fields.
pub(crate) mod opt_u128 {
    use super::*;

    /// Serializes as a `0x` hex string or `null`.
    pub(crate) fn serialize<S: Serializer>(v: &Option<u128>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&format!("{v:#x}")),
            None => s.serialize_none(),
        }
    }

    /// Deserializes from `null`, a number, a decimal or a hex string.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u128>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(deserialize_with = "de_u128")] u128);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(with = "super::u64_quantity")]
        a: u64,
        #[serde(with = "super::opt_u64", default)]
        b: Option<u64>,
        #[serde(with = "super::opt_u128", default)]
        c: Option<u128>,
    }

    #[test]
    fn accepts_numbers_decimal_and_hex() {
        let t: T = serde_json::from_str(r#"{"a":"0x10","b":"12","c":7}"#).unwrap();
        assert_eq!(
            t,
            T {
                a: 16,
                b: Some(12),
                c: Some(7)
            }
        );
        let t: T = serde_json::from_str(r#"{"a":3,"b":null}"#).unwrap();
        assert_eq!(
            t,
            T {
                a: 3,
                b: None,
                c: None
            }
        );
        let t: T = toml::from_str("a = 5\nc = \"0xff\"").unwrap();
        assert_eq!(
            t,
            T {
                a: 5,
                b: None,
                c: Some(255)
            }
        );
    }

    #[test]
    fn rejects_garbage_and_overflow() {
        assert!(serde_json::from_str::<T>(r#"{"a":"zz"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a":"0x10000000000000000"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a":-1}"#).is_err());
    }

    #[test]
    fn serializes_as_hex() {
        let s = serde_json::to_string(&T {
            a: 16,
            b: None,
            c: Some(1),
        })
        .unwrap();
        assert_eq!(s, r#"{"a":"0x10","b":null,"c":"0x1"}"#);
    }
}
