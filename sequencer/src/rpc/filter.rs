//! Log filters (`eth_getLogs`, `eth_subscribe("logs")`), parsed and matched as geth does:
//! one address or a list (any of them), up to four topic positions where `null` is a
//! wildcard and a list is an OR (a `null` inside a list makes the position a wildcard), and a
//! log with fewer topics than the filter has positions never matches.

use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bloom, BloomInput, Log};
use serde_json::{Map, Value};

/// Most topic positions of a filter (geth's `maxTopics`).
pub(crate) const MAX_TOPICS: usize = 4;
/// Most addresses, or values in one topic position (geth's limit).
pub(crate) const MAX_VALUES: usize = 1000;

/// Which blocks a query covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockSpan {
    /// One block by hash.
    Hash(B256),
    /// An inclusive range; missing ends mean `latest`.
    Range {
        /// `fromBlock`.
        from: Option<BlockNumberOrTag>,
        /// `toBlock`.
        to: Option<BlockNumberOrTag>,
    },
}

/// Address and topic criteria.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogFilter {
    /// Any of these addresses; empty matches all.
    pub(crate) addresses: Vec<Address>,
    /// Per position, any of these topics; an empty position matches all.
    pub(crate) topics: Vec<Vec<B256>>,
}

/// A parsed filter object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FilterQuery {
    /// The blocks to search.
    pub(crate) span: BlockSpan,
    /// What to match.
    pub(crate) filter: LogFilter,
}

impl FilterQuery {
    /// Parses a filter object; the error says what is wrong.
    pub(crate) fn parse(value: &Value) -> Result<Self, String> {
        let Value::Object(obj) = value else {
            return Err("filter must be an object".into());
        };
        let from = tag(obj, "fromBlock")?;
        let to = tag(obj, "toBlock")?;
        let span = match field(obj, "blockHash") {
            Some(_) if from.is_some() || to.is_some() => {
                return Err(
                    "cannot specify both BlockHash and FromBlock/ToBlock, choose one or \
                            the other"
                        .into(),
                );
            }
            Some(h) => BlockSpan::Hash(decode(h, "blockHash")?),
            None => BlockSpan::Range { from, to },
        };
        let addresses = parse_addresses(field(obj, "address"))?;
        let topics = parse_topics(field(obj, "topics"))?;
        Ok(Self {
            span,
            filter: LogFilter { addresses, topics },
        })
    }
}

/// A member that is present and not `null`.
fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn decode<T: serde::de::DeserializeOwned>(value: &Value, what: &str) -> Result<T, String> {
    T::deserialize(value).map_err(|e| format!("invalid {what}: {e}"))
}

fn tag(obj: &Map<String, Value>, key: &str) -> Result<Option<BlockNumberOrTag>, String> {
    field(obj, key).map(|v| decode(v, key)).transpose()
}

fn parse_addresses(value: Option<&Value>) -> Result<Vec<Address>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| decode(v, &format!("address at index {i}")))
            .collect(),
        Some(single) => Ok(vec![decode(single, "address")?]),
    }
}

fn parse_topics(value: Option<&Value>) -> Result<Vec<Vec<B256>>, String> {
    let items = match value {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("invalid topics: expected an array".into()),
    };
    items.iter().map(parse_position).collect()
}

fn parse_position(value: &Value) -> Result<Vec<B256>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(alternatives) => {
            if alternatives.iter().any(Value::is_null) {
                return Ok(Vec::new());
            }
            alternatives.iter().map(|v| decode(v, "topic")).collect()
        }
        single => Ok(vec![decode(single, "topic")?]),
    }
}

impl LogFilter {
    /// Geth's limits: at most four positions, at most 1000 values per list.
    pub(crate) fn check_limits(&self) -> Result<(), &'static str> {
        if self.topics.len() > MAX_TOPICS {
            return Err("exceed max topics");
        }
        if self.addresses.len() > MAX_VALUES || self.topics.iter().any(|t| t.len() > MAX_VALUES) {
            return Err("exceed max addresses or topics per search position");
        }
        Ok(())
    }

    /// Whether `log` matches.
    pub(crate) fn matches(&self, log: &Log) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(&log.address) {
            return false;
        }
        let topics = log.topics();
        if self.topics.len() > topics.len() {
            return false;
        }
        self.topics
            .iter()
            .zip(topics)
            .all(|(wanted, topic)| wanted.is_empty() || wanted.contains(topic))
    }

    /// Whether a block or receipt with `bloom` may hold a matching log.
    pub(crate) fn matches_bloom(&self, bloom: &Bloom) -> bool {
        if !self.addresses.is_empty() && !bloom_has_any(bloom, &self.addresses) {
            return false;
        }
        self.topics
            .iter()
            .filter(|position| !position.is_empty())
            .all(|position| bloom_has_any(bloom, position))
    }
}

/// Whether `bloom` may contain any of `values`.
fn bloom_has_any<T: AsRef<[u8]>>(bloom: &Bloom, values: &[T]) -> bool {
    values
        .iter()
        .any(|v| bloom.contains_input(BloomInput::Raw(v.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{LogData, address, b256, logs_bloom};
    use serde_json::json;

    const A: Address = address!("0x00000000000000000000000000000000000000aa");
    const B: Address = address!("0x00000000000000000000000000000000000000bb");
    const T1: B256 = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
    const T2: B256 = b256!("0x2222222222222222222222222222222222222222222222222222222222222222");
    const T3: B256 = b256!("0x3333333333333333333333333333333333333333333333333333333333333333");

    fn log(address: Address, topics: &[B256]) -> Log {
        Log {
            address,
            data: LogData::new_unchecked(topics.to_vec(), Default::default()),
        }
    }

    fn filter(v: Value) -> LogFilter {
        FilterQuery::parse(&v).unwrap().filter
    }

    #[test]
    fn addresses_one_or_many() {
        assert!(filter(json!({})).matches(&log(A, &[])));
        assert!(filter(json!({"address": A})).matches(&log(A, &[])));
        assert!(!filter(json!({"address": A})).matches(&log(B, &[])));
        let many = filter(json!({"address": [A, B]}));
        assert!(many.matches(&log(A, &[])) && many.matches(&log(B, &[])));
        assert!(filter(json!({"address": null})).matches(&log(B, &[])));
    }

    #[test]
    fn topics_null_or_and_positions() {
        let l = log(A, &[T1, T2]);
        assert!(filter(json!({"topics": [T1]})).matches(&l));
        assert!(!filter(json!({"topics": [T2]})).matches(&l));
        assert!(filter(json!({"topics": [null, T2]})).matches(&l));
        assert!(filter(json!({"topics": [[T3, T1], [T2, T3]]})).matches(&l));
        assert!(!filter(json!({"topics": [[T3], [T2]]})).matches(&l));
        assert!(filter(json!({"topics": [[T3, null], T2]})).matches(&l));
        assert!(filter(json!({"topics": []})).matches(&l));
        assert!(filter(json!({"topics": [null, null]})).matches(&l));
        // More positions than the log has topics never match, even wildcards (as geth).
        assert!(!filter(json!({"topics": [null, null, null]})).matches(&l));
        assert!(!filter(json!({"topics": [T1, T2, T3]})).matches(&l));
    }

    #[test]
    fn bloom_prefilter() {
        let l = log(A, &[T1, T2]);
        let bloom = logs_bloom([&l]);
        assert!(filter(json!({"address": A, "topics": [T1, [T3, T2]]})).matches_bloom(&bloom));
        assert!(filter(json!({"topics": [null, T2]})).matches_bloom(&bloom));
        assert!(!filter(json!({"address": B})).matches_bloom(&bloom));
        assert!(!filter(json!({"topics": [T3]})).matches_bloom(&bloom));
        assert!(filter(json!({})).matches_bloom(&Bloom::ZERO));
    }

    #[test]
    fn spans_and_errors() {
        let q = FilterQuery::parse(&json!({"fromBlock": "0x1", "toBlock": "latest"})).unwrap();
        assert_eq!(
            q.span,
            BlockSpan::Range {
                from: Some(BlockNumberOrTag::Number(1)),
                to: Some(BlockNumberOrTag::Latest)
            }
        );
        let q = FilterQuery::parse(&json!({"blockHash": T1})).unwrap();
        assert_eq!(q.span, BlockSpan::Hash(T1));
        let err = FilterQuery::parse(&json!({"blockHash": T1, "fromBlock": "0x1"})).unwrap_err();
        assert!(err.starts_with("cannot specify both BlockHash"), "{err}");
        assert!(FilterQuery::parse(&json!({"address": "0x12"})).is_err());
        assert!(FilterQuery::parse(&json!({"topics": ["0x12"]})).is_err());
        assert!(FilterQuery::parse(&json!({"fromBlock": "yesterday"})).is_err());
        assert!(FilterQuery::parse(&json!([1])).is_err());
        let five = filter(json!({"topics": [null, null, null, null, null]}));
        assert_eq!(five.check_limits(), Err("exceed max topics"));
    }
}
