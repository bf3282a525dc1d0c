//! SQL text shared by both backends, written with `?` placeholders.

use crate::Backend;

/// Rewrites `?` placeholders to `$1, $2, …` for PostgreSQL. The SQL in this crate has no `?`
/// inside string literals.
pub fn placeholders(backend: Backend, sql: &str) -> String {
    if backend == Backend::Sqlite {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_for_postgres_only() {
        let s = "SELECT a FROM t WHERE b = ? AND c = ?";
        assert_eq!(placeholders(Backend::Sqlite, s), s);
        assert_eq!(
            placeholders(Backend::Postgres, s),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
    }
}
