//! Diagnostics: what is wrong in a plan file, where, and how to render it like a compiler does.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{Annotation, AnnotationKind, Element, Level, Origin, Renderer, Snippet};
use serde::Serialize;

/// A byte range into the plan file's text.
pub type Span = Range<usize>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Stable diagnostic codes, for plan files and drill scripts alike. The numbers never change
/// meaning; new problems get new numbers. `docs/plan-format.md` lists them all
/// (`docs/drill-format.md` those a drill script can get).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The file is not valid TOML.
    Syntax,
    /// A key the format does not define.
    UnknownKey,
    /// A value of the wrong TOML type.
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// A value of the right type that is not allowed (bad duration, time, colour, id…).
    InvalidValue,
    /// Two things of the same kind share an id.
    DuplicateId,
    /// A reference to a post that the plan does not define.
    UndefinedPost,
    /// A reference to a group (or the command/office) that the plan does not define.
    UndefinedGroup,
    /// A reference to a level that the plan does not define.
    UndefinedLevel,
    /// A reference to a venue, behaviour, member unit or special period that is not defined.
    UndefinedName,
    /// Two levels claim the same headcount under the same conditions.
    OverlappingRanges,
    /// A headcount at or above the plan's scope that no level covers.
    CoverageGap,
    /// A level that no report can ever reach.
    UnreachableLevel,
    /// A level whose response names no commander.
    NoCommander,
    /// A time limit of zero or less (write `immediately` for "at once").
    NonPositiveTimeLimit,
    /// A headcount range that contains no number.
    EmptyRange,
    /// The parent plan is not among the files checked together.
    ParentNotFound,
    /// `extends` goes round in a circle.
    ExtendsCycle,
    /// A day/night time limit in a plan that does not say when day starts.
    DayNightUndefined,
    /// A headcount range that lies (partly) below the plan's scope and so is never used there.
    BelowScope,
    /// A group that no level calls.
    GroupNeverCalled,
    /// A post that nothing refers to.
    UnusedPost,
    /// Two files declare the same plan id.
    DuplicatePlan,
    /// Escalation steps whose delays do not increase.
    EscalationOrder,
    /// Two escalation policies for the same level (or two defaults).
    EscalationOverlap,
    /// The `above` links of posts go round in a circle.
    AboveCycle,
    /// A key the engine does not act on as written (it is kept, but nothing happens).
    NotActedOn,
    /// The file could not be read (I/O error).
    Unreadable,
    /// The file is larger than [`crate::MAX_SOURCE_BYTES`].
    TooLarge,
    /// The file is not UTF-8 text (e.g. saved as GBK).
    NotUtf8,
    /// The plan names itself as its parent.
    SelfParent,
    /// A title or name that is empty or only whitespace.
    EmptyTitle,
    /// An escalation step that can call nobody.
    EscalationNobody,
    /// An escalation policy with no steps and no repeats: the levels it lists are never
    /// escalated.
    EscalationEmpty,
    /// Scope (docs/plan-format.md §9): registering or listing individual petitioners.
    ScopeRegister,
    /// Scope: tracking people's whereabouts.
    ScopeTrack,
    /// Scope: watching people.
    ScopeWatch,
    /// Scope: intercepting people on their way to petition.
    ScopeIntercept,
    /// Scope: escorting or bringing people back.
    ScopeEscort,
    /// Scope: holding people (训诫, keeping at home).
    ScopeHold,
    /// Scope: collecting identity-card numbers in a form.
    ScopeIdentity,
    /// A drill script's `plan` is not among the plans it is checked with.
    DrillPlanNotFound,
    /// A drill inject listed after one that comes later.
    InjectOrder,
    /// A drill inject after the `end` inject.
    InjectAfterEnd,
}

impl Code {
    /// The stable identifier shown to users and matched by tests.
    pub fn id(self) -> &'static str {
        match self {
            Code::Syntax => "P0001",
            Code::UnknownKey => "P0002",
            Code::WrongType => "P0003",
            Code::MissingKey => "P0004",
            Code::InvalidValue => "P0005",
            Code::DuplicateId => "P0101",
            Code::UndefinedPost => "P0102",
            Code::UndefinedGroup => "P0103",
            Code::UndefinedLevel => "P0104",
            Code::UndefinedName => "P0105",
            Code::OverlappingRanges => "P0201",
            Code::CoverageGap => "P0202",
            Code::UnreachableLevel => "P0203",
            Code::NoCommander => "P0204",
            Code::NonPositiveTimeLimit => "P0205",
            Code::EmptyRange => "P0206",
            Code::ExtendsCycle => "P0207",
            Code::DayNightUndefined => "P0208",
            Code::EscalationOrder => "P0209",
            Code::EscalationOverlap => "P0210",
            Code::AboveCycle => "P0211",
            Code::ParentNotFound => "P0301",
            Code::DuplicatePlan => "P0302",
            Code::BelowScope => "P0401",
            Code::GroupNeverCalled => "P0402",
            Code::UnusedPost => "P0403",
            Code::NotActedOn => "P0404",
            Code::Unreadable => "P0006",
            Code::TooLarge => "P0007",
            Code::NotUtf8 => "P0008",
            Code::SelfParent => "P0212",
            Code::EmptyTitle => "P0213",
            Code::EscalationNobody => "P0214",
            Code::EscalationEmpty => "P0405",
            Code::ScopeRegister => "P0501",
            Code::ScopeTrack => "P0502",
            Code::ScopeWatch => "P0503",
            Code::ScopeIntercept => "P0504",
            Code::ScopeEscort => "P0505",
            Code::ScopeHold => "P0506",
            Code::ScopeIdentity => "P0507",
            Code::InjectOrder => "P0215",
            Code::InjectAfterEnd => "P0216",
            Code::DrillPlanNotFound => "P0303",
        }
    }

    /// Errors stop a plan from being used; warnings do not.
    pub fn severity(self) -> Severity {
        match self {
            Code::BelowScope
            | Code::GroupNeverCalled
            | Code::UnusedPost
            | Code::NotActedOn
            | Code::EscalationEmpty => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Whether the code is one of the scope codes (P05xx): content yingji refuses to act on.
    pub fn is_scope(self) -> bool {
        matches!(
            self,
            Code::ScopeRegister
                | Code::ScopeTrack
                | Code::ScopeWatch
                | Code::ScopeIntercept
                | Code::ScopeEscort
                | Code::ScopeHold
                | Code::ScopeIdentity
        )
    }

    /// Whether an error of this code found while reading leaves the plan's structure in doubt,
    /// so that the coverage and usage checks would mostly repeat it. A refused term or an
    /// empty title is about one value only.
    pub fn leaves_structure_in_doubt(self) -> bool {
        self.severity() == Severity::Error && !self.is_scope() && self != Code::EmptyTitle
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// A secondary location that explains the primary one ("first defined here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub span: Span,
    pub label: String,
}

/// One problem in one plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// Where the problem is; `None` when it concerns the file as a whole.
    pub span: Option<Span>,
    /// A short label under the caret.
    pub label: Option<String>,
    pub notes: Vec<Note>,
    /// A hint on how to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span: span.into(),
            label: None,
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn note(mut self, span: Span, label: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            label: label.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// A 1-based line and column (in characters) for a byte offset. For many offsets into the same
/// text, build a [`LineIndex`] once instead: this scans the text up to `offset`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(src).line_col(src, offset)
}

/// Where each line of a text starts, for turning byte offsets into lines and columns in
/// O(log lines) each (plus the column's length), so that locating n diagnostics is linear in n
/// rather than rescanning the text for each one.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of the start of every line; the first is 0.
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            starts,
            len: src.len(),
        }
    }

    /// The 0-based line holding a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// The 1-based line and column (in characters) of a byte offset into `src`, the text the
    /// index was built from.
    pub fn line_col(&self, src: &str, offset: usize) -> (usize, usize) {
        debug_assert_eq!(src.len(), self.len, "the index belongs to another text");
        let offset = floor_char_boundary(src, offset.min(src.len()));
        let line = self.line_of(offset);
        let col = src[self.starts[line]..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// The byte range of whole lines covering `span` (without the last line's newline), and
    /// the 1-based number of its first line.
    fn lines_around(&self, src: &str, span: &Span) -> (Span, usize) {
        let first = self.line_of(span.start.min(self.len));
        let last = self.line_of(span.end.max(span.start).min(self.len));
        let start = self.starts[first];
        let end = match self.starts.get(last + 1) {
            Some(next) => next - 1,
            None => self.len,
        };
        let end = end.max(start);
        debug_assert!(src.is_char_boundary(start) && src.is_char_boundary(end));
        (start..end, first + 1)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A diagnostic with its file, ready for rendering or for JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Located {
    /// One diagnostic located. For several, use [`Located::all`] (one line index for all).
    pub fn new(file: &str, src: &str, d: &Diagnostic) -> Self {
        Located::with_index(file, src, &LineIndex::new(src), d)
    }

    /// Every diagnostic of one file, located with one line index.
    pub fn all(file: &str, src: &str, diags: &[Diagnostic]) -> Vec<Located> {
        let index = LineIndex::new(src);
        diags
            .iter()
            .map(|d| Located::with_index(file, src, &index, d))
            .collect()
    }

    pub fn with_index(file: &str, src: &str, index: &LineIndex, d: &Diagnostic) -> Self {
        let (line, column) = match &d.span {
            Some(s) => {
                let (l, c) = index.line_col(src, s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Located {
            severity: d.severity(),
            code: d.code,
            message: d.message.clone(),
            file: file.to_string(),
            line,
            column,
            help: d.help.clone(),
        }
    }
}

/// Renders diagnostics like a compiler: `error[P0102]: …`, ` --> file:line:col`, the source line
/// and a caret under the offending text.
///
/// Each snippet is given only the lines its annotations cover (with their line number), not the
/// whole file, so rendering n diagnostics costs O(n × lines shown), not O(n × file size).
pub fn render(file: &str, src: &str, diags: &[Diagnostic], colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let index = LineIndex::new(src);
    let mut out = String::new();
    for d in diags {
        let level = match d.severity() {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let mut elements: Vec<Element<'_>> = Vec::new();
        match &d.span {
            Some(span) => {
                let span = clamp(src, span.clone());
                let (window, first_line) = index.lines_around(src, &span);
                let rel = |s: &Span| s.start - window.start..s.end - window.start;
                let mut ann = AnnotationKind::Primary.span(rel(&span));
                if let Some(l) = &d.label {
                    ann = ann.label(l.as_str());
                }
                let mut snippet = Snippet::source(&src[window.clone()])
                    .line_start(first_line)
                    .path(file)
                    .fold(true)
                    .annotation(ann);
                let mut apart: Vec<Snippet<'_, Annotation<'_>>> = Vec::new();
                for n in &d.notes {
                    let ns = clamp(src, n.span.clone());
                    let ctx = |s: Span| AnnotationKind::Context.span(s).label(n.label.as_str());
                    if ns.start >= window.start && ns.end <= window.end {
                        snippet = snippet.annotation(ctx(rel(&ns)));
                    } else {
                        // A note elsewhere in the file ("first defined here") gets its own
                        // snippet of its own lines.
                        let (w, l) = index.lines_around(src, &ns);
                        apart.push(
                            Snippet::source(&src[w.clone()])
                                .line_start(l)
                                .path(file)
                                .fold(true)
                                .annotation(ctx(ns.start - w.start..ns.end - w.start)),
                        );
                    }
                }
                elements.push(snippet.into());
                elements.extend(apart.into_iter().map(Element::from));
            }
            None => elements.push(Origin::path(file).into()),
        }
        if let Some(h) = &d.help {
            elements.push(Level::HELP.message(h.as_str()).into());
        }
        let group = level
            .primary_title(d.message.as_str())
            .id(d.code.id())
            .elements(elements);
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    out
}

fn clamp(src: &str, span: Span) -> Span {
    let start = floor_char_boundary(src, span.start.min(src.len()));
    let end = floor_char_boundary(src, span.end.min(src.len())).max(start);
    start..end
}

/// Counts of errors and warnings, for the summary line.
pub fn summary(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let src = "a = 1\n名称 = \"x\"\n";
        let off = src.find('=').unwrap();
        assert_eq!(line_col(src, off), (1, 3));
        let off = src.rfind('=').unwrap();
        assert_eq!(line_col(src, off), (2, 4));
    }
}
