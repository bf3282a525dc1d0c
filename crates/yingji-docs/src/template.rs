//! Document templates: TOML files, replaceable per jurisdiction, rendered to a
//! [`docx::Document`](crate::docx::Document).
//!
//! ```toml
//! title = "关于{place}群体性事件的{report_kind}"
//! number = "{jurisdiction}应急〔{year}〕{seq}号"   # optional
//! recipient = "{parent}："                          # optional
//! signature = ["{jurisdiction}应急指挥部"]           # optional; a string or an array of strings
//! date = "{date}"                                   # optional
//!
//! [[section]]                                       # any number, in order
//! heading = "一、基本情况"                           # optional
//! body = """
//! {reported_at}，{place}发生……
//! """                                               # optional; each line becomes a paragraph
//! table = "tasks"                                   # optional; a table the caller supplies
//! ```
//!
//! Only `title` is required. Every string may hold `{name}` placeholders; a name is one or
//! more letters, digits, `_`, `-` or `.` (letters include Chinese), and `{{` / `}}` stand for
//! literal braces. Positions in errors are 1-based lines and columns, columns counted in
//! characters (not bytes), pointing into the TOML text — through escapes in basic strings too.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::docx::{Block, Document};

/// A problem in a template, at a 1-based line and (character) column of its TOML text.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// A parsed template. Positions refer to the text it was parsed from; pass that same text to
/// [`Template::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    title: Text,
    number: Option<Text>,
    recipient: Option<Text>,
    signature: Vec<Text>,
    date: Option<Text>,
    sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq)]
struct Section {
    heading: Option<Text>,
    body: Option<Text>,
    /// The table name and the byte offset of its string in the source.
    table: Option<(String, usize)>,
}

/// A template string split into literal text and placeholders.
#[derive(Debug, Clone, PartialEq)]
struct Text(Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Lit(String),
    /// A placeholder and the byte offset of its `{` in the source.
    Field(String, usize),
}

impl Text {
    fn fields(&self) -> impl Iterator<Item = (&str, usize)> {
        self.0.iter().filter_map(|p| match p {
            Piece::Field(name, at) => Some((name.as_str(), *at)),
            Piece::Lit(_) => None,
        })
    }

    fn render(&self, values: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Field(name, _) => out.push_str(values.get(name).map_or("", String::as_str)),
            }
        }
        out
    }

    /// Rendered and trimmed; `None` when nothing is left.
    fn render_line(&self, values: &BTreeMap<String, String>) -> Option<String> {
        let s = self.render(values);
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    }
}

/// Errors collected with byte offsets, turned into line:column at the end.
struct Errors<'a> {
    src: &'a str,
    list: Vec<TemplateError>,
}

impl Errors<'_> {
    fn push(&mut self, at: usize, message: impl Into<String>) {
        let (line, column) = line_col(self.src, at);
        self.list.push(TemplateError {
            line,
            column,
            message: message.into(),
        });
    }
}

/// The 1-based line and character column of byte offset `at` in `src` (clamped into it).
fn line_col(src: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..at].chars().count() + 1)
}

impl Template {
    /// Parses a template, reporting every problem found: TOML syntax, unknown keys, wrong
    /// types, a missing `title`, and malformed placeholders (unbalanced braces, empty or
    /// invalid names).
    pub fn parse(text: &str) -> Result<Template, Vec<TemplateError>> {
        let mut errs = Errors {
            src: text,
            list: Vec::new(),
        };
        let (doc, syntax) = DeTable::parse_recoverable(text);
        for e in &syntax {
            let at = e.span().map_or(0, |s| s.start);
            errs.push(at, format!("invalid TOML: {}", e.message().trim()));
        }
        let mut title = None;
        let mut t = Template {
            title: Text(Vec::new()),
            number: None,
            recipient: None,
            signature: Vec::new(),
            date: None,
            sections: Vec::new(),
        };
        for (key, value) in doc.get_ref().iter() {
            match key.get_ref().as_ref() {
                "title" => title = string(&mut errs, "title", value),
                "number" => t.number = string(&mut errs, "number", value),
                "recipient" => t.recipient = string(&mut errs, "recipient", value),
                "date" => t.date = string(&mut errs, "date", value),
                "signature" => match value.get_ref() {
                    DeValue::String(_) => t.signature.extend(string(&mut errs, "signature", value)),
                    DeValue::Array(items) => {
                        for item in items.iter() {
                            t.signature.extend(string(&mut errs, "signature", item));
                        }
                    }
                    other => wrong_type(
                        &mut errs,
                        "signature",
                        value.span(),
                        other,
                        "a string or an array of strings",
                    ),
                },
                "section" => match value.get_ref() {
                    DeValue::Array(items) => {
                        for item in items.iter() {
                            match item.get_ref() {
                                DeValue::Table(table) => t.sections.push(section(&mut errs, table)),
                                other => wrong_type(
                                    &mut errs,
                                    "section",
                                    item.span(),
                                    other,
                                    "a table ([[section]])",
                                ),
                            }
                        }
                    }
                    other => wrong_type(
                        &mut errs,
                        "section",
                        value.span(),
                        other,
                        "an array of tables ([[section]])",
                    ),
                },
                other => unknown_key(
                    &mut errs,
                    key.span(),
                    other,
                    &[
                        "title",
                        "number",
                        "recipient",
                        "signature",
                        "date",
                        "section",
                    ],
                ),
            }
        }
        match title {
            Some(title) => t.title = title,
            // After a syntax error the title may just be in the unreadable part.
            None if syntax.is_empty()
                && !doc.get_ref().iter().any(|(k, _)| k.get_ref() == "title") =>
            {
                errs.push(0, "missing `title`");
            }
            None => {}
        }
        if errs.list.is_empty() {
            Ok(t)
        } else {
            errs.list.sort_by_key(|e| (e.line, e.column));
            Err(errs.list)
        }
    }

    /// Reports each placeholder whose name is not in `fields` and each section table not in
    /// `tables`, at its position in `text` (the text the template was parsed from).
    pub fn check(&self, text: &str, fields: &[&str], tables: &[&str]) -> Vec<TemplateError> {
        let mut errs = Errors {
            src: text,
            list: Vec::new(),
        };
        let mut found: Vec<(usize, String)> = Vec::new();
        for t in self.texts() {
            for (name, at) in t.fields() {
                if !fields.contains(&name) {
                    found.push((at, format!("unknown placeholder `{{{name}}}`")));
                }
            }
        }
        for s in &self.sections {
            if let Some((name, at)) = &s.table
                && !tables.contains(&name.as_str())
            {
                found.push((*at, format!("unknown table `{name}`")));
            }
        }
        found.sort();
        for (at, message) in found {
            errs.push(at, message);
        }
        errs.list
    }

    /// Renders the document. A placeholder without a value renders as the empty string;
    /// values are inserted as they are (not expanded again). Lines that end up empty are
    /// dropped: a title, number, recipient, date, heading or signature line that renders
    /// blank is left out, and so is a blank body line; all are trimmed. A section's table is
    /// included only when `tables` has it with at least one row. The footer note is left
    /// `None` for the caller to set.
    pub fn render(
        &self,
        values: &BTreeMap<String, String>,
        tables: &BTreeMap<String, (Vec<String>, Vec<Vec<String>>)>,
        language: &str,
    ) -> Document {
        let opt = |t: &Option<Text>| t.as_ref().and_then(|t| t.render_line(values));
        let mut blocks = Vec::new();
        for s in &self.sections {
            if let Some(h) = opt(&s.heading) {
                blocks.push(Block::Heading(h));
            }
            if let Some(body) = &s.body {
                let body = body.render(values);
                let lines: Vec<&str> = body
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                if !lines.is_empty() {
                    blocks.push(Block::Paragraph(lines.join("\n")));
                }
            }
            if let Some((name, _)) = &s.table
                && let Some((header, rows)) = tables.get(name)
                && !rows.is_empty()
            {
                blocks.push(Block::Table {
                    header: header.clone(),
                    rows: rows.clone(),
                });
            }
        }
        Document {
            title: self.title.render(values).trim().to_string(),
            number: opt(&self.number),
            recipient: opt(&self.recipient),
            blocks,
            signature: self
                .signature
                .iter()
                .filter_map(|t| t.render_line(values))
                .collect(),
            date: opt(&self.date),
            footer_note: None,
            language: language.to_string(),
        }
    }

    /// The distinct placeholder names, in order of first appearance.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.texts() {
            for (name, _) in t.fields() {
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_string());
                }
            }
        }
        out
    }

    /// The distinct table names the sections ask for, in order of first appearance.
    pub fn tables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, _) in self.sections.iter().filter_map(|s| s.table.as_ref()) {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }

    /// Every template string, in document order.
    fn texts(&self) -> impl Iterator<Item = &Text> {
        std::iter::once(&self.title)
            .chain(&self.number)
            .chain(&self.recipient)
            .chain(
                self.sections
                    .iter()
                    .flat_map(|s| s.heading.iter().chain(&s.body)),
            )
            .chain(&self.signature)
            .chain(&self.date)
    }
}

fn section(errs: &mut Errors<'_>, table: &DeTable<'_>) -> Section {
    let mut s = Section {
        heading: None,
        body: None,
        table: None,
    };
    for (key, value) in table.iter() {
        match key.get_ref().as_ref() {
            "heading" => s.heading = string(errs, "section.heading", value),
            "body" => s.body = string(errs, "section.body", value),
            "table" => match value.get_ref() {
                DeValue::String(name) => s.table = Some((name.to_string(), value.span().start)),
                other => wrong_type(errs, "section.table", value.span(), other, "a string"),
            },
            other => unknown_key(errs, key.span(), other, &["heading", "body", "table"]),
        }
    }
    s
}

fn unknown_key(errs: &mut Errors<'_>, span: Range<usize>, key: &str, known: &[&str]) {
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    errs.push(
        span.start,
        format!("unknown key `{key}` (expected one of {list})"),
    );
}

fn wrong_type(
    errs: &mut Errors<'_>,
    key: &str,
    span: Range<usize>,
    v: &DeValue<'_>,
    expected: &str,
) {
    errs.push(
        span.start,
        format!("`{key}` must be {expected}, found {}", v.type_str()),
    );
}

/// A string value parsed into a [`Text`]; records an error and returns `None` otherwise.
fn string(errs: &mut Errors<'_>, key: &str, v: &Spanned<DeValue<'_>>) -> Option<Text> {
    let DeValue::String(value) = v.get_ref() else {
        wrong_type(errs, key, v.span(), v.get_ref(), "a string");
        return None;
    };
    let chars = source_map(errs.src, v.span(), value);
    let before = errs.list.len();
    let text = pieces(errs, &chars);
    (errs.list.len() == before).then_some(text)
}

/// Splits a decoded string into literals and placeholders. `chars` are its characters, each
/// with the source offset it came from.
fn pieces(errs: &mut Errors<'_>, chars: &[(char, usize)]) -> Text {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let (c, at) = chars[i];
        let next = chars.get(i + 1).map(|p| p.0);
        match c {
            '{' | '}' if next == Some(c) => {
                lit.push(c);
                i += 2;
            }
            '}' => {
                errs.push(at, "unmatched `}` (write `}}` for a literal brace)");
                i += 1;
            }
            '{' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|p| matches!(p.0, '{' | '}' | '\n'))
                    .map(|k| i + 1 + k)
                    .filter(|&j| chars[j].0 == '}');
                let Some(j) = end else {
                    errs.push(at, "unclosed `{` (write `{{` for a literal brace)");
                    i += 1;
                    continue;
                };
                let name: String = chars[i + 1..j].iter().map(|p| p.0).collect();
                if name.is_empty() {
                    errs.push(
                        at,
                        "empty placeholder `{}` (write `{{}}` for literal braces)",
                    );
                } else if !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    errs.push(
                        at,
                        format!("invalid placeholder name `{name}` (use letters, digits, `_`, `-` and `.`)"),
                    );
                } else {
                    if !lit.is_empty() {
                        out.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    out.push(Piece::Field(name, at));
                }
                i = j + 1;
            }
            _ => {
                lit.push(c);
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Text(out)
}

/// The characters of the string value written at `span` of `src`, each with the source offset
/// it comes from (for an escape, the offset of its backslash). The TOML parser has already
/// decoded the value; this re-decodes the raw token only to learn positions, and falls back to
/// the start of the token for every character if the two ever disagree.
fn source_map(src: &str, span: Range<usize>, value: &str) -> Vec<(char, usize)> {
    let fallback = || value.chars().map(|c| (c, span.start)).collect();
    let Some(raw) = src.get(span.clone()) else {
        return fallback();
    };
    let (delim, literal) = if raw.starts_with("\"\"\"") {
        (3, false)
    } else if raw.starts_with("'''") {
        (3, true)
    } else if raw.starts_with('"') {
        (1, false)
    } else if raw.starts_with('\'') {
        (1, true)
    } else {
        return fallback();
    };
    if raw.len() < 2 * delim {
        return fallback();
    }
    let base = span.start + delim;
    let body = &raw[delim..raw.len() - delim];
    let mut chars: Vec<(usize, char)> = body.char_indices().collect();
    // A newline right after the opening delimiter of a multi-line string is not part of it.
    if delim == 3 {
        if body.starts_with("\r\n") {
            chars.drain(..2);
        } else if body.starts_with('\n') {
            chars.drain(..1);
        }
    }
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let (off, c) = chars[i];
        i += 1;
        if literal || c != '\\' {
            out.push((c, base + off));
            continue;
        }
        let Some(&(_, e)) = chars.get(i) else {
            return fallback();
        };
        i += 1;
        let hex = |i: &mut usize, n: usize| -> Option<char> {
            let digits: String = chars.get(*i..*i + n)?.iter().map(|p| p.1).collect();
            *i += n;
            char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
        };
        let decoded = match e {
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'f' => '\u{C}',
            'r' => '\r',
            'e' => '\u{1B}',
            '"' => '"',
            '\\' => '\\',
            'x' => match hex(&mut i, 2) {
                Some(c) => c,
                None => return fallback(),
            },
            'u' => match hex(&mut i, 4) {
                Some(c) => c,
                None => return fallback(),
            },
            'U' => match hex(&mut i, 8) {
                Some(c) => c,
                None => return fallback(),
            },
            // A line-ending backslash: skip all whitespace and newlines that follow.
            ' ' | '\t' | '\r' | '\n' => {
                i -= 1;
                while chars
                    .get(i)
                    .is_some_and(|p| matches!(p.1, ' ' | '\t' | '\r' | '\n'))
                {
                    i += 1;
                }
                continue;
            }
            _ => return fallback(),
        };
        out.push((decoded, base + off));
    }
    if out.iter().map(|p| p.0).eq(value.chars()) {
        return out;
    }
    // The parser may normalise CRLF line ends to LF.
    let mut normalised = Vec::with_capacity(out.len());
    for (k, p) in out.iter().enumerate() {
        if !(p.0 == '\r' && out.get(k + 1).is_some_and(|q| q.0 == '\n')) {
            normalised.push(*p);
        }
    }
    if normalised.iter().map(|p| p.0).eq(value.chars()) {
        normalised
    } else {
        fallback()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"# 突发事件报告
title = "关于{place}群体性事件的{report_kind}"
number = "{jurisdiction}应急〔{year}〕{seq}号"
recipient = "{parent}："
signature = ["{jurisdiction}应急指挥部"]
date = "{date}"

[[section]]
heading = "一、基本情况"
body = """
{reported_at}，{place}发生群体性事件，约{people}人聚集。
{extra}
  报告人：{reporter}。用 {{花括号}} 表示字面量。
"""

[[section]]
heading = "二、处置情况"
table = "tasks"

[[section]]
heading = "{optional_heading}"
table = "empty"
"#;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn at(e: &TemplateError) -> (usize, usize) {
        (e.line, e.column)
    }

    #[test]
    fn parses_and_lists_placeholders() {
        let t = Template::parse(SAMPLE).unwrap();
        assert_eq!(
            t.placeholders(),
            [
                "place",
                "report_kind",
                "jurisdiction",
                "year",
                "seq",
                "parent",
                "reported_at",
                "people",
                "extra",
                "reporter",
                "optional_heading",
                "date"
            ]
        );
        assert_eq!(t.tables(), ["tasks", "empty"]);
    }

    #[test]
    fn renders_substituting_and_dropping_empty_lines() {
        let t = Template::parse(SAMPLE).unwrap();
        let v = values(&[
            ("place", "某镇"),
            ("report_kind", "续报"),
            ("jurisdiction", "某县"),
            ("year", "2026"),
            ("seq", "3"),
            ("parent", "县委、县政府"),
            ("reported_at", "3月1日9时"),
            ("people", "{200}"),
            ("date", "2026年3月1日"),
        ]);
        let mut tables = BTreeMap::new();
        tables.insert(
            "tasks".to_string(),
            (vec!["任务".to_string()], vec![vec!["疏导".to_string()]]),
        );
        tables.insert("empty".to_string(), (vec!["x".to_string()], vec![]));
        let d = t.render(&v, &tables, "zh-CN");
        assert_eq!(d.title, "关于某镇群体性事件的续报");
        assert_eq!(d.number.as_deref(), Some("某县应急〔2026〕3号"));
        assert_eq!(d.recipient.as_deref(), Some("县委、县政府："));
        assert_eq!(d.signature, ["某县应急指挥部"]);
        assert_eq!(d.date.as_deref(), Some("2026年3月1日"));
        assert_eq!(d.language, "zh-CN");
        assert_eq!(
            d.blocks,
            [
                Block::Heading("一、基本情况".into()),
                // `{extra}` alone on its line renders empty and is dropped; values are not
                // expanded again; `{{`/`}}` are literal braces.
                Block::Paragraph(
                    "3月1日9时，某镇发生群体性事件，约{200}人聚集。\n报告人：。用 {花括号} 表示字面量。".into()
                ),
                Block::Heading("二、处置情况".into()),
                Block::Table {
                    header: vec!["任务".into()],
                    rows: vec![vec!["疏导".into()]]
                },
                // The third section: an empty heading and a table without rows are left out.
            ]
        );
        // Without the table at all, the section is just its heading.
        let d = t.render(&v, &BTreeMap::new(), "zh-CN");
        assert_eq!(d.blocks.len(), 3);
        assert!(!d.to_bytes().is_empty());
    }

    #[test]
    fn check_locates_unknown_placeholders_and_tables() {
        let t = Template::parse(SAMPLE).unwrap();
        let mut fields = t.placeholders();
        fields.retain(|f| f != "reporter" && f != "place");
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let errs = t.check(SAMPLE, &fields, &["tasks"]);
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "2:12: unknown placeholder `{place}`",
                "11:15: unknown placeholder `{place}`",
                "13:7: unknown placeholder `{reporter}`",
                "22:9: unknown table `empty`",
            ]
        );
    }

    #[test]
    fn positions_go_through_escapes() {
        let src =
            "title = \"\\u4E00\\t{a}\"\nsignature = '''\nx{b}'''\ndate = \"\"\"\\\n   {c}\"\"\"\n";
        let t = Template::parse(src).unwrap();
        let errs = t.check(src, &[], &[]);
        let got: Vec<(usize, usize)> = errs.iter().map(at).collect();
        assert_eq!(got, [(1, 18), (3, 2), (5, 4)]);
    }

    #[test]
    fn positions_survive_crlf_line_ends() {
        let src =
            "title = \"t\"\r\n[[section]]\r\nbody = \"\"\"\r\nfirst\r\n  {x} and {y}\r\n\"\"\"\r\n";
        let t = Template::parse(src).unwrap();
        let errs = t.check(src, &["x"], &[]);
        assert_eq!(errs.iter().map(at).collect::<Vec<_>>(), [(5, 11)]);
        let d = t.render(&values(&[("x", "X")]), &BTreeMap::new(), "zh-CN");
        assert_eq!(d.blocks, [Block::Paragraph("first\nX and".into())]);
    }

    #[test]
    fn unknown_key_is_reported_at_the_key() {
        let src = "# comment\n\ntitel = \"x\"\n";
        let errs = Template::parse(src).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(at(&errs[0]), (1, 1));
        assert_eq!(errs[0].message, "missing `title`");
        assert_eq!(at(&errs[1]), (3, 1));
        assert!(
            errs[1].message.starts_with("unknown key `titel`"),
            "{}",
            errs[1]
        );

        let src = "title = \"x\"\n[[section]]\n  heding = \"y\"\n";
        let errs = Template::parse(src).unwrap_err();
        assert_eq!(errs.iter().map(at).collect::<Vec<_>>(), [(3, 3)]);
    }

    #[test]
    fn wrong_types_are_reported_at_the_value() {
        let src = "title = 3\nsignature = [\"a\", 2]\n[section]\nbody = 'x'\n";
        let errs = Template::parse(src).unwrap_err();
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "1:9: `title` must be a string, found integer",
                "2:19: `signature` must be a string, found integer",
                "3:1: `section` must be an array of tables ([[section]]), found table",
            ]
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let src = "title = \"x\"\nnumber = \"unterminated\nrecipient = 'y'\n";
        let errs = Template::parse(src).unwrap_err();
        assert!(!errs.is_empty());
        assert_eq!(errs[0].line, 2, "{errs:?}");
        assert!(errs[0].message.starts_with("invalid TOML"));
    }

    #[test]
    fn unbalanced_braces_are_errors() {
        let src = "title = \"关于{place的报告\"\ndate = \"x}y\"\nnumber = \"{}\"\nrecipient = \"{a b}\"\n";
        let errs = Template::parse(src).unwrap_err();
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "1:12: unclosed `{` (write `{{` for a literal brace)",
                "2:10: unmatched `}` (write `}}` for a literal brace)",
                "3:11: empty placeholder `{}` (write `{{}}` for literal braces)",
                "4:14: invalid placeholder name `a b` (use letters, digits, `_`, `-` and `.`)",
            ]
        );
    }

    #[test]
    fn chinese_placeholder_names_and_literal_braces() {
        let t = Template::parse("title = \"{{{地点}}}\"").unwrap();
        assert_eq!(t.placeholders(), ["地点"]);
        let d = t.render(&values(&[("地点", "某镇")]), &BTreeMap::new(), "zh-CN");
        assert_eq!(d.title, "{某镇}");
    }

    #[test]
    fn display_is_line_colon_column() {
        let e = TemplateError {
            line: 3,
            column: 1,
            message: "unknown key `titel`".into(),
        };
        assert_eq!(e.to_string(), "3:1: unknown key `titel`");
    }
}
