//! A spanned TOML walker that reads the typed values it is asked for, records a diagnostic for
//! every wrong type or missing key, and, when finished, reports the keys nobody asked for.
//! Unlike serde it never stops at the first problem.

use std::cell::RefCell;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic, Span};

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }
}

impl Sp<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// The sink for diagnostics while reading one file.
#[derive(Debug, Default)]
pub struct Diags(RefCell<Vec<Diagnostic>>);

impl Diags {
    pub fn push(&self, d: Diagnostic) {
        self.0.borrow_mut().push(d);
    }
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0.into_inner()
    }
    pub fn has_errors(&self) -> bool {
        self.0.borrow().iter().any(|d| d.is_error())
    }
}

pub fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date/time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Reads one TOML table. `path` is the key path used in messages, e.g. `levels[2]`.
pub struct Table<'a, 'i> {
    table: &'a DeTable<'i>,
    span: Span,
    path: String,
    asked: RefCell<Vec<&'static str>>,
    d: &'a Diags,
    /// What kind of file is read, for messages: `plan` or `drill script`.
    document: &'static str,
}

impl<'a, 'i> Table<'a, 'i> {
    pub fn new(table: &'a DeTable<'i>, span: Span, path: String, d: &'a Diags) -> Self {
        Table {
            table,
            span,
            path,
            asked: RefCell::new(Vec::new()),
            d,
            document: "plan",
        }
    }

    /// Names the kind of file read in messages ("missing required key `x` in the drill script",
    /// "not part of the drill script format"); the default is `plan`. Tables read from this one
    /// inherit it.
    pub fn in_document(mut self, document: &'static str) -> Self {
        self.document = document;
        self
    }

    fn child(&self, table: &'a DeTable<'i>, span: Span, path: String) -> Table<'a, 'i> {
        Table::new(table, span, path, self.d).in_document(self.document)
    }

    pub fn span(&self) -> Span {
        self.span.clone()
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn diags(&self) -> &'a Diags {
        self.d
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.path, key)
        }
    }

    /// The span of the key itself, for "defined here" notes.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, _)| k.span())
    }

    fn raw(&self, key: &'static str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.asked.borrow_mut().push(key);
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }

    pub fn has(&self, key: &'static str) -> bool {
        self.asked.borrow_mut().push(key);
        self.table.iter().any(|(k, _)| k.get_ref().as_ref() == key)
    }

    fn wrong_type(&self, key: &str, v: &Spanned<DeValue<'_>>, expected: &str) {
        self.d.push(
            Diagnostic::new(
                Code::WrongType,
                v.span(),
                format!(
                    "`{}` must be {expected}, found {}",
                    self.child_path(key),
                    type_name(v.get_ref())
                ),
            )
            .label(format!("expected {expected}")),
        );
    }

    fn missing(&self, key: &str, expected: &str) {
        let where_ = if self.path.is_empty() {
            format!("the {}", self.document)
        } else {
            format!("`{}`", self.path)
        };
        self.d.push(
            Diagnostic::new(
                Code::MissingKey,
                self.header_span(),
                format!("missing required key `{key}` in {where_}"),
            )
            .label(format!("`{key}` ({expected}) is required here")),
        );
    }

    /// Where to point when a key is missing: the table's header, not its whole body.
    fn header_span(&self) -> Span {
        self.span.start
            ..self
                .span
                .start
                .saturating_add(1)
                .min(self.span.end.max(self.span.start + 1))
    }

    pub fn str(&self, key: &'static str) -> Option<Sp<String>> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), v.span())),
            _ => {
                self.wrong_type(key, v, "a string");
                None
            }
        }
    }

    /// Reports a key that is present but not allowed in this combination.
    pub fn forbid(&self, key: &'static str, why: &str) {
        if let Some(v) = self.raw(key) {
            self.d.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    v.span(),
                    format!("`{}` {why}", self.child_path(key)),
                )
                .label("not allowed here"),
            );
        }
    }

    pub fn req_u32(&self, key: &'static str) -> Option<Sp<u32>> {
        if !self.has(key) {
            self.missing(key, "an integer");
            return None;
        }
        self.u32(key)
    }

    pub fn req_str(&self, key: &'static str) -> Option<Sp<String>> {
        if !self.has(key) {
            self.missing(key, "a string");
            return None;
        }
        self.str(key)
    }

    pub fn bool(&self, key: &'static str) -> Option<Sp<bool>> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(*b, v.span())),
            _ => {
                self.wrong_type(key, v, "a boolean (true or false)");
                None
            }
        }
    }

    /// A non-negative integer that fits in u32.
    pub fn u32(&self, key: &'static str) -> Option<Sp<u32>> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::Integer(i) => {
                let parsed = i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                    .ok()
                    .and_then(|n| u32::try_from(n).ok());
                match parsed {
                    Some(n) => Some(Sp::new(n, v.span())),
                    None => {
                        self.d.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                v.span(),
                                format!(
                                    "`{}` must be a whole number from 0 to {}",
                                    self.child_path(key),
                                    u32::MAX
                                ),
                            )
                            .label("out of range"),
                        );
                        None
                    }
                }
            }
            _ => {
                self.wrong_type(key, v, "an integer");
                None
            }
        }
    }

    /// A TOML local date (`2026-03-01`).
    pub fn date(&self, key: &'static str) -> Option<Sp<jiff::civil::Date>> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::Datetime(dt) if dt.date.is_some() && dt.time.is_none() => {
                let d = dt.date.expect("checked");
                match jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8) {
                    Ok(date) => Some(Sp::new(date, v.span())),
                    Err(e) => {
                        self.d.push(Diagnostic::new(
                            Code::InvalidValue,
                            v.span(),
                            format!("`{}` is not a valid date: {e}", self.child_path(key)),
                        ));
                        None
                    }
                }
            }
            _ => {
                self.wrong_type(key, v, "a date such as 2026-03-01");
                None
            }
        }
    }

    pub fn req_date(&self, key: &'static str) -> Option<Sp<jiff::civil::Date>> {
        if !self.has(key) {
            self.missing(key, "a date");
            return None;
        }
        self.date(key)
    }

    /// An array of strings; a single string is also accepted as a one-element list.
    pub fn str_list(&self, key: &'static str) -> Vec<Sp<String>> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::String(s) => vec![Sp::new(s.to_string(), v.span())],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push(Sp::new(s.to_string(), item.span())),
                        other => self.d.push(
                            Diagnostic::new(
                                Code::WrongType,
                                item.span(),
                                format!(
                                    "`{}[{i}]` must be a string, found {}",
                                    self.child_path(key),
                                    type_name(other)
                                ),
                            )
                            .label("expected a string"),
                        ),
                    }
                }
                out
            }
            _ => {
                self.wrong_type(key, v, "a list of strings");
                Vec::new()
            }
        }
    }

    /// A required list of strings (a single string is a one-element list): P0004 when absent,
    /// P0003 when neither a string nor an array. The list may be empty, or shorter than written
    /// when some items are not strings (each reported).
    pub fn req_str_list(&self, key: &'static str) -> Option<Vec<Sp<String>>> {
        let Some(v) = self.raw(key) else {
            self.missing(key, "a list of strings");
            return None;
        };
        match v.get_ref() {
            DeValue::String(_) | DeValue::Array(_) => Some(self.str_list(key)),
            _ => {
                self.wrong_type(key, v, "a list of strings");
                None
            }
        }
    }

    /// The raw value, for keys that accept several shapes.
    pub fn value(&self, key: &'static str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.raw(key)
    }

    pub fn table(&self, key: &'static str) -> Option<Table<'a, 'i>> {
        let v = self.raw(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(self.child(t, v.span(), self.child_path(key))),
            _ => {
                self.wrong_type(key, v, "a table");
                None
            }
        }
    }

    pub fn req_table(&self, key: &'static str) -> Option<Table<'a, 'i>> {
        if !self.has(key) {
            self.missing(key, "a table");
            return None;
        }
        self.table(key)
    }

    /// An array of tables (`[[key]]` or `key = [{…}, {…}]`).
    pub fn tables(&self, key: &'static str) -> Vec<Table<'a, 'i>> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{}[{i}]", self.child_path(key));
                    match item.get_ref() {
                        DeValue::Table(t) => out.push(self.child(t, item.span(), path)),
                        other => self.d.push(
                            Diagnostic::new(
                                Code::WrongType,
                                item.span(),
                                format!("`{path}` must be a table, found {}", type_name(other)),
                            )
                            .label("expected a table"),
                        ),
                    }
                }
                out
            }
            _ => {
                self.wrong_type(key, v, "an array of tables ([[…]])");
                Vec::new()
            }
        }
    }

    /// Reports every key that no reader asked for. Call once, after reading.
    pub fn finish(&self) {
        let asked = self.asked.borrow();
        for (k, _) in self.table.iter() {
            let name = k.get_ref().as_ref();
            if !asked.contains(&name) {
                let mut diag = Diagnostic::new(
                    Code::UnknownKey,
                    k.span(),
                    format!(
                        "unknown key `{name}` in {}",
                        if self.path.is_empty() {
                            format!("the {}", self.document)
                        } else {
                            format!("`{}`", self.path)
                        }
                    ),
                )
                .label(format!("not part of the {} format", self.document));
                if let Some(s) = closest(name, &asked) {
                    diag = diag.help(format!("did you mean `{s}`?"));
                }
                self.d.push(diag);
            }
        }
    }
}

/// The known key closest to a misspelt one, if any is close enough to be a likely typo.
fn closest<'s>(name: &str, known: &[&'s str]) -> Option<&'s str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
