//! Reading an action's parameters: the JSON body of a POST, or the GET form's dot-flattened
//! query (`HaVipIds.0=…&Filters.0.Name=…&Filters.0.Values.0=…`) turned into the same JSON.
//! Numbers may come as JSON numbers or strings (tccli sends `"0"` for Offset).

use super::errors::TcError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The parameters of a request, as one JSON object.
pub fn from_body(body: &[u8]) -> Result<Value, TcError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(TcError::new(
            "InvalidParameter",
            "The request body must be a JSON object of the action's parameters.",
        )),
        Err(e) => Err(TcError::new(
            "InvalidParameter",
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

/// The GET form's query as the JSON the POST form would have sent.
pub fn from_query(query: &str) -> Result<Value, TcError> {
    let mut root = Value::Object(Map::new());
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "Action" || key == "Version" || key == "Region" {
            continue; // the common parameters of the older signature scheme
        }
        let path: Vec<&str> = key.split('.').collect();
        if path.iter().any(|p| p.is_empty()) || path.len() > 6 {
            return Err(TcError::new(
                "InvalidParameter",
                format!("Malformed parameter name {key:?}."),
            ));
        }
        insert(&mut root, &path, Value::String(value.into_owned()))
            .map_err(|why| TcError::new("InvalidParameter", format!("{key}: {why}")))?;
    }
    Ok(root)
}

/// Puts `value` at `path`: numeric parts index arrays (in order, no gaps), others name fields.
fn insert(node: &mut Value, path: &[&str], value: Value) -> Result<(), &'static str> {
    let Some((head, rest)) = path.split_first() else {
        *node = value;
        return Ok(());
    };
    let next = || {
        if rest.first().is_some_and(|p| p.parse::<usize>().is_ok()) {
            Value::Array(vec![])
        } else if rest.is_empty() {
            Value::Null
        } else {
            Value::Object(Map::new())
        }
    };
    match (head.parse::<usize>(), node) {
        (Ok(i), Value::Array(items)) => {
            if i > items.len() || i >= 100 {
                return Err("list indexes must start at 0 and have no gaps");
            }
            if i == items.len() {
                items.push(next());
            }
            insert(&mut items[i], rest, value)
        }
        (Err(_), Value::Object(fields)) => {
            let child = fields.entry(head.to_string()).or_insert_with(next);
            insert(child, rest, value)
        }
        _ => Err("mixes a list and named fields"),
    }
}

/// The typed parameters of an action; a wrong type or a missing required field is the
/// caller's mistake.
pub fn decode<T: DeserializeOwned>(params: Value) -> Result<T, TcError> {
    serde_json::from_value(params).map_err(|e| {
        let text = e.to_string();
        if text.starts_with("missing field") {
            TcError::new("MissingParameter", format!("Missing parameter: {text}."))
        } else {
            TcError::new("InvalidParameter", format!("Invalid parameter: {text}."))
        }
    })
}

/// A count or an offset, sent as a number or a string.
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        N(u64),
        S(String),
    }
    match Option::<Either>::deserialize(d)? {
        None => Ok(None),
        Some(Either::N(n)) => Ok(Some(n)),
        Some(Either::S(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a whole number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_get_form_unflattens_into_the_post_form() {
        let q = "HaVipIds.0=havip-1&HaVipIds.1=havip-2&Filters.0.Name=vpc-id&Filters.0.Values.0=vpc-1&Filters.0.Values.1=vpc-2&Limit=5&Action=DescribeHaVips";
        assert_eq!(
            from_query(q).unwrap(),
            json!({"HaVipIds": ["havip-1", "havip-2"], "Filters": [{"Name": "vpc-id", "Values": ["vpc-1", "vpc-2"]}], "Limit": "5"})
        );
        for bad in ["HaVipIds.1=x", "A.0=x&A.b=y", "A..b=x", "A.b.0=x&A.b.c=y"] {
            assert!(from_query(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert_eq!(from_body(b"").unwrap(), json!({}));
        assert!(from_body(b"[1]").is_err());
        assert!(from_body(b"{").is_err());
    }
}
