//! One value on its way: a SQLite value checked against its PostgreSQL column and written as PostgreSQL's
//! text form, and a PostgreSQL value read back into the SQLite value it must equal. Both sides feed the same
//! tagged digest (type, length, bytes), so a row read back from PostgreSQL hashes as its SQLite original only
//! when every value came back exactly (a decimal's text included).
use super::tables::Kind;
use postgres::types::Type;
use rusqlite::types::{Value, ValueRef};
use rust_decimal::Decimal;
use std::str::FromStr;

/// A SQLite value as PostgreSQL's text input for a column of `kind` (None: NULL), or why it does not fit.
pub fn to_text(kind: Kind, value: ValueRef) -> Result<Option<String>, String> {
    let text = match (kind, value) {
        (_, ValueRef::Null) => return Ok(None),
        (Kind::Int, ValueRef::Integer(i)) => i.to_string(),
        (Kind::Bool, ValueRef::Integer(0)) => "f".into(),
        (Kind::Bool, ValueRef::Integer(1)) => "t".into(),
        (Kind::Text, ValueRef::Text(t)) => utf8(t)?.to_owned(),
        (Kind::Decimal, ValueRef::Text(t)) => {
            let text = utf8(t)?;
            Decimal::from_str(text).map_err(|e| format!("{text:?} is not a decimal ({e})"))?;
            text.to_owned()
        }
        (Kind::Bytes, ValueRef::Blob(b)) => format!("\\x{}", hex::encode(b)),
        (kind, other) => return Err(format!("{} where the column holds {kind:?}", describe(other))),
    };
    Ok(Some(text))
}

fn utf8(t: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(t).map_err(|_| "text that is not UTF-8".to_owned())
}

fn describe(v: ValueRef) -> String {
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => format!("the integer {i}"),
        ValueRef::Real(f) => format!("the real number {f}"),
        ValueRef::Text(t) => format!("the text {:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("a blob of {} bytes", b.len()),
    }
}

/// Adds a value to a decimal sum (an integer or decimal column).
pub fn add(sum: &mut Decimal, value: ValueRef) -> Result<(), String> {
    let v = match value {
        ValueRef::Integer(i) => Decimal::from(i),
        ValueRef::Text(t) => Decimal::from_str(utf8(t)?).map_err(|e| e.to_string())?,
        _ => return Ok(()),
    };
    *sum = sum.checked_add(v).ok_or("the sum overflows a decimal")?;
    Ok(())
}

/// Column `i` of a PostgreSQL row as the SQLite value it was copied from. Numeric columns are selected as
/// text (`::text`), so their text is what PostgreSQL gives back.
pub fn from_pg(row: &postgres::Row, i: usize) -> Result<Value, String> {
    let ty = row.columns()[i].type_().clone();
    let bad = |e: postgres::Error| format!("column {}: {e}", row.columns()[i].name());
    let value = if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i).map_err(bad)?.map(Value::Integer)
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i).map_err(bad)?.map(|v| Value::Integer(v.into()))
    } else if ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i).map_err(bad)?.map(|v| Value::Integer(v.into()))
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i).map_err(bad)?.map(|v| Value::Integer(v.into()))
    } else if ty == Type::TEXT {
        row.try_get::<_, Option<String>>(i).map_err(bad)?.map(Value::Text)
    } else if ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i).map_err(bad)?.map(Value::Blob)
    } else {
        return Err(format!("column {} is of type {ty}, which a copy does not read", row.columns()[i].name()));
    };
    Ok(value.unwrap_or(Value::Null))
}

/// A value as COPY's text format writes it (tab-separated, `\N` for NULL, backslashes escaped).
pub fn copy_field(out: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for b in text.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fit_their_columns_or_say_why() {
        assert_eq!(to_text(Kind::Bool, ValueRef::Integer(1)).unwrap().as_deref(), Some("t"));
        assert!(to_text(Kind::Bool, ValueRef::Integer(2)).unwrap_err().contains("integer 2"));
        assert_eq!(to_text(Kind::Decimal, ValueRef::Text(b"1.50")).unwrap().as_deref(), Some("1.50"));
        assert!(to_text(Kind::Decimal, ValueRef::Text(b"1,5")).is_err());
        assert!(to_text(Kind::Text, ValueRef::Real(1.5)).unwrap_err().contains("real"));
        assert_eq!(to_text(Kind::Bytes, ValueRef::Blob(&[0, 255])).unwrap().as_deref(), Some("\\x00ff"));
        let mut out = Vec::new();
        copy_field(&mut out, Some("a\tb\\c\nd"));
        copy_field(&mut out, None);
        assert_eq!(out, b"a\\tb\\\\c\\nd\\N");
    }
}
