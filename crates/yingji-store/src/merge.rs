//! Merging the statements of a batch of writes, shared by both writers.
//!
//! The same `INSERT INTO t (…) VALUES (?, …)` from many writes becomes one group whose rows can
//! go in one statement (multi-row `VALUES` on SQLite, a JSON array on PostgreSQL). Each write's
//! own statement order is kept: a statement joins an earlier statement's group only if nothing
//! of its write ran after that group. Statements that cannot take many rows (updates, inserts
//! with a row-count check) stay groups of their own and run as they are. A merged batch that
//! fails is rolled back by the writer and run again write by write, so every write still gets
//! its own exact answer.

use std::collections::HashMap;

use crate::rows::{Stmt, Val};

/// Rows per merged `VALUES` statement come in these sizes only, so that the prepared statements
/// stay few (a statement per size and shape).
pub(crate) const CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// `INSERT INTO … VALUES (…) [suffix]` without a row-count check can take many rows: the byte
/// range of its one `VALUES` tuple.
pub(crate) fn values_split(st: &Stmt) -> Option<(usize, usize)> {
    if st.expect_rows.is_some() || !st.sql.trim_start().starts_with("INSERT INTO") {
        return None;
    }
    let open = st.sql.find(" VALUES (")? + " VALUES ".len();
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, c) in st.sql[open..].char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some((open, open + i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// Statements of a batch that run together: one statement, or the rows of many identical
/// `INSERT`s (`template` is the `VALUES` tuple's byte range in `first.sql`).
pub(crate) struct Group<'a> {
    pub first: &'a Stmt,
    pub rows: Vec<&'a [Val]>,
    pub template: Option<(usize, usize)>,
}

/// The groups of a batch, in the order they must run.
pub(crate) fn groups<'a>(writes: &[&'a [Stmt]]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    // The latest group of each mergeable SQL text.
    let mut latest: HashMap<&'a str, usize> = HashMap::new();
    for stmts in writes {
        // Where this write's previous statement went: its next one may not run earlier.
        let mut floor = 0usize;
        for st in stmts.iter() {
            let tpl = values_split(st);
            let target = match tpl {
                Some(_) => latest.get(st.sql.as_ref()).copied().filter(|&g| g >= floor),
                None => None,
            };
            let g = match target {
                Some(g) => {
                    groups[g].rows.push(&st.args);
                    g
                }
                None => {
                    groups.push(Group {
                        first: st,
                        rows: vec![&st.args],
                        template: tpl,
                    });
                    let g = groups.len() - 1;
                    if tpl.is_some() {
                        latest.insert(&st.sql, g);
                    }
                    g
                }
            };
            floor = g;
        }
    }
    groups
}

/// A group of many rows as multi-row `VALUES` statements of [`CHUNKS`] rows, each within
/// `max_params` bound values: each statement's SQL and its rows (bound in order). `template` is
/// the group's `(open, close)` (a group without one runs as it is and never comes here).
pub(crate) fn values_chunks<'g>(
    g: &'g Group<'g>,
    (open, close): (usize, usize),
    max_params: usize,
) -> Vec<(String, &'g [&'g [Val]])> {
    let per_row = g.rows.first().map_or(1, |r| r.len().max(1));
    let mut out = Vec::new();
    let mut rest = g.rows.as_slice();
    while !rest.is_empty() {
        let size = CHUNKS
            .iter()
            .copied()
            .find(|&c| c <= rest.len() && c * per_row <= max_params)
            .unwrap_or(1);
        let (now, later) = rest.split_at(size);
        rest = later;
        let sql0: &str = &g.first.sql;
        let tuple = &sql0[open..close];
        let mut sql = String::with_capacity(sql0.len() + (tuple.len() + 2) * size);
        sql.push_str(&sql0[..open]);
        for i in 0..size {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(tuple);
        }
        sql.push_str(&sql0[close..]);
        out.push((sql, now));
    }
    out
}

/// [`values_chunks`] as statements owning their values.
pub(crate) fn values_statements(
    g: &Group<'_>,
    template: (usize, usize),
    max_params: usize,
) -> Vec<Stmt> {
    values_chunks(g, template, max_params)
        .into_iter()
        .map(|(sql, rows)| {
            let mut st = Stmt::new(sql, rows.iter().flat_map(|r| r.iter().cloned()).collect());
            st.unique = g.first.unique;
            st.conflict = g.first.conflict;
            st
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(table: &str, v: i64) -> Stmt {
        Stmt::new(
            format!("INSERT INTO {table} (a) VALUES (?)"),
            vec![Val::Int(v)],
        )
    }

    fn upd(v: i64) -> Stmt {
        Stmt::new("UPDATE s SET v = ? WHERE id = 1", vec![Val::Int(v)])
            .expect(1, crate::Conflict::StreamVersion)
    }

    #[test]
    fn inserts_merge_across_writes_but_never_run_before_their_own_writes_earlier_statements() {
        let a = vec![ins("t", 1), upd(1), ins("u", 1)];
        let b = vec![ins("t", 2), upd(2), ins("u", 2)];
        let c = vec![ins("u", 3)];
        let writes: Vec<&[Stmt]> = vec![&a, &b, &c];
        let gs = groups(&writes);
        let shape: Vec<(String, usize)> = gs
            .iter()
            .map(|g| (g.first.sql.to_string(), g.rows.len()))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("INSERT INTO t (a) VALUES (?)".to_string(), 2),
                ("UPDATE s SET v = ? WHERE id = 1".to_string(), 1),
                // b's insert into u comes after b's update, so it cannot join a's group.
                ("INSERT INTO u (a) VALUES (?)".to_string(), 1),
                ("UPDATE s SET v = ? WHERE id = 1".to_string(), 1),
                ("INSERT INTO u (a) VALUES (?)".to_string(), 2),
            ]
        );
    }

    #[test]
    fn a_group_becomes_values_statements_of_the_fixed_sizes() {
        let rows: Vec<Stmt> = (0..21).map(|i| ins("t", i)).collect();
        let writes: Vec<&[Stmt]> = rows.iter().map(std::slice::from_ref).collect();
        let gs = groups(&writes);
        assert_eq!(gs.len(), 1);
        let sts = values_statements(&gs[0], gs[0].template.unwrap(), 1000);
        let sizes: Vec<usize> = sts.iter().map(|s| s.args.len()).collect();
        assert_eq!(sizes, vec![16, 4, 1]);
        assert_eq!(
            sts[2].sql, "INSERT INTO t (a) VALUES (?)",
            "the last row goes alone"
        );
        assert!(sts[1].sql.ends_with("VALUES (?), (?), (?), (?)"));
        let all: Vec<Val> = sts.iter().flat_map(|s| s.args.clone()).collect();
        assert_eq!(all, (0..21).map(Val::Int).collect::<Vec<_>>());
        // The bound on values per statement is kept.
        let small = values_statements(&gs[0], gs[0].template.unwrap(), 4);
        assert!(small.iter().all(|s| s.args.len() <= 4));
    }
}
