//! SQL text shared by both backends, written with `?` placeholders, and what each backend
//! needs of it.
//!
//! On PostgreSQL ids, times, dates and JSON bodies have their own column types (uuid,
//! timestamptz, date, jsonb or json). sqlx's `Any` driver binds such values as text and cannot
//! decode them, so:
//! - a `?` becomes `$n` followed by the cast its argument's type needs (`$3::uuid`,
//!   `$4::timestamptz`; see [`SqlType::pg_cast`]);
//! - a query reads a typed column through `yj_text(column)`, a function of migration 0006 that
//!   gives the text the store writes (an id's canonical text, a time as `fmt_ts` writes it,
//!   `YYYY-MM-DD`, JSON). SQLite stores that text itself: there `yj_text(x)` becomes `x`.

use crate::Backend;
use crate::rows::{SqlType, Val};

/// The function that reads a typed PostgreSQL column as the store's text.
const TEXT_OF: &str = "yj_text(";

/// The SQL text for `backend`, with `args` the values bound to its `?` in order. The SQL in this
/// crate has no `?` or `yj_text(` inside string literals.
pub fn expand(backend: Backend, sql: &str, args: &[Val]) -> String {
    match backend {
        Backend::Sqlite => plain_columns(sql),
        Backend::Postgres => placeholders(sql, args),
    }
}

/// PostgreSQL: `?` → `$n` and the cast of the n-th argument's type.
fn placeholders(sql: &str, args: &[Val]) -> String {
    let mut out = String::with_capacity(sql.len() + 8 + args.len() * 4);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            out.push('$');
            out.push_str(&(n + 1).to_string());
            if let Some(a) = args.get(n) {
                out.push_str(a.sql_type().pg_cast());
            }
            n += 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// SQLite: `yj_text(x)` → `x` (the column holds the text already).
fn plain_columns(sql: &str) -> String {
    if !sql.contains(TEXT_OF) {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(TEXT_OF) {
        out.push_str(&rest[..at]);
        rest = &rest[at + TEXT_OF.len()..];
        // The argument runs to the matching parenthesis.
        let mut depth = 0usize;
        let end = rest
            .char_indices()
            .find(|&(_, c)| match c {
                '(' => {
                    depth += 1;
                    false
                }
                ')' if depth == 0 => true,
                ')' => {
                    depth -= 1;
                    false
                }
                _ => false,
            })
            .map_or(rest.len(), |(i, _)| i);
        out.push_str(&rest[..end]);
        rest = rest.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

impl SqlType {
    /// What PostgreSQL needs after a placeholder of this type: the value travels as text.
    pub(crate) fn pg_cast(self) -> &'static str {
        match self {
            SqlType::Uuid => "::uuid",
            SqlType::Timestamp => "::timestamptz",
            SqlType::Date => "::date",
            // A json value is assigned to a json or a jsonb column alike.
            SqlType::Json => "::json",
            SqlType::Text | SqlType::Int | SqlType::Real | SqlType::Bool => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_numbers_placeholders_and_casts_typed_ones() {
        let s = "SELECT a FROM t WHERE b = ? AND c = ? AND d < ? AND e = ? AND f = ?";
        let args = vec![
            Val::Text("x".into()),
            Val::Uuid(uuid::Uuid::nil()),
            Val::ts("2026-03-02T02:00:00.000000Z"),
            Val::Bool(true),
            Val::Null(SqlType::Json),
        ];
        assert_eq!(expand(Backend::Sqlite, s, &args), s);
        assert_eq!(
            expand(Backend::Postgres, s, &args),
            "SELECT a FROM t WHERE b = $1 AND c = $2::uuid AND d < $3::timestamptz AND e = $4 AND f = $5::json"
        );
    }

    #[test]
    fn sqlite_reads_typed_columns_as_they_are() {
        let s = "SELECT yj_text(i.id), yj_text(updated_at), title FROM incidents i WHERE id = ?";
        assert_eq!(
            expand(Backend::Sqlite, s, &[]),
            "SELECT i.id, updated_at, title FROM incidents i WHERE id = ?"
        );
        assert_eq!(
            expand(Backend::Postgres, s, &[Val::Uuid(uuid::Uuid::nil())]),
            "SELECT yj_text(i.id), yj_text(updated_at), title FROM incidents i WHERE id = $1::uuid"
        );
    }
}
