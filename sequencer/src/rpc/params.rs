//! Positional method parameters, decoded the way geth decodes them: trailing `null`s count
//! as missing, and every failure names the argument.

use super::error::{RpcError, RpcResult};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The `params` array of a call.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Params(Vec<Value>);

impl Params {
    /// Takes the `params` member of a request: absent, `null` or an array.
    pub(crate) fn from_json(value: Option<Value>) -> RpcResult<Self> {
        match value {
            None | Some(Value::Null) => Ok(Self::default()),
            Some(Value::Array(items)) => Ok(Self(items)),
            Some(_) => Err(RpcError::invalid_params("non-array args")),
        }
    }

    /// Parameters from a list of values (tests and internal callers).
    #[cfg(test)]
    pub(crate) fn new(items: Vec<Value>) -> Self {
        Self(items)
    }

    /// Number of arguments, not counting trailing `null`s.
    pub(crate) fn len(&self) -> usize {
        self.0
            .iter()
            .rposition(|v| !v.is_null())
            .map_or(0, |i| i + 1)
    }

    /// Fails when more than `max` arguments were given.
    pub(crate) fn at_most(&self, max: usize) -> RpcResult<()> {
        if self.len() > max {
            return Err(RpcError::invalid_params(format!(
                "too many arguments, want at most {max}"
            )));
        }
        Ok(())
    }

    /// Argument `index`, which must be present and not `null`.
    pub(crate) fn required<T: DeserializeOwned>(&self, index: usize) -> RpcResult<T> {
        match self.0.get(index) {
            None | Some(Value::Null) => Err(RpcError::invalid_params(format!(
                "missing value for required argument {index}"
            ))),
            Some(v) => decode(index, v),
        }
    }

    /// Argument `index`, or `None` when absent or `null`.
    pub(crate) fn optional<T: DeserializeOwned>(&self, index: usize) -> RpcResult<Option<T>> {
        match self.0.get(index) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => decode(index, v).map(Some),
        }
    }

    /// The raw argument `index`, if present.
    pub(crate) fn raw(&self, index: usize) -> Option<&Value> {
        self.0.get(index).filter(|v| !v.is_null())
    }
}

fn decode<T: DeserializeOwned>(index: usize, value: &Value) -> RpcResult<T> {
    T::deserialize(value)
        .map_err(|e| RpcError::invalid_params(format!("invalid argument {index}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;
    use serde_json::json;

    #[test]
    fn shapes() {
        assert_eq!(Params::from_json(None).unwrap().len(), 0);
        assert_eq!(Params::from_json(Some(Value::Null)).unwrap().len(), 0);
        let err = Params::from_json(Some(json!({"a": 1}))).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (-32602, "non-array args"));
    }

    #[test]
    fn trailing_nulls_are_missing() {
        let p = Params::new(vec![json!("0x1"), Value::Null, Value::Null]);
        assert_eq!(p.len(), 1);
        assert!(p.at_most(1).is_ok());
        assert_eq!(p.optional::<String>(1).unwrap(), None);
        let err = p.at_most(0).unwrap_err();
        assert_eq!(err.message, "too many arguments, want at most 0");
    }

    #[test]
    fn errors_name_the_argument() {
        let p = Params::new(vec![json!("0x1234")]);
        let err = p.required::<Address>(0).unwrap_err();
        assert_eq!(err.code, -32602);
        assert!(
            err.message.starts_with("invalid argument 0: "),
            "{}",
            err.message
        );
        let err = p.required::<Address>(1).unwrap_err();
        assert_eq!(err.message, "missing value for required argument 1");
    }
}
