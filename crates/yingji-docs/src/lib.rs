//! Office documents for yingji without third-party format libraries.
//!
//! - [`zip`]: the container, STORED entries only, deterministic (fixed timestamps);
//! - [`xlsx`]: SpreadsheetML workbooks (statistics) with inline strings and true numbers;
//! - [`csv`]: the same rows as RFC 4180 CSV with a BOM, guarded against formula injection;
//! - [`docx`]: WordprocessingML documents laid out like a Chinese official document
//!   (title, 文号, 主送, body, tables, signature, date) on A4;
//! - [`template`]: TOML document templates with `{placeholder}` fields, rendered to a
//!   [`docx::Document`], with line:column diagnostics.
//!
//! Everything is pure: no I/O, and the same input always gives the same bytes.

pub mod csv;
pub mod docx;
pub mod template;
pub mod xlsx;
pub mod zip;

/// Escapes `s` for XML text and attribute values (`&`, `<`, `>`, `"` and `'`) and drops the
/// characters XML 1.0 does not allow at all (control characters other than tab, line feed and
/// carriage return, and U+FFFE / U+FFFF), which would otherwise make the whole file unreadable.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    push_xml_escaped(&mut out, s);
    out
}

/// [`xml_escape`] appending to `out`, for the writers that build large documents.
pub(crate) fn push_xml_escaped(out: &mut String, s: &str) {
    // Copy runs of ordinary characters in one go; most text has nothing to escape.
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let rep = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            c if is_xml_char(c) => continue,
            _ => "",
        };
        out.push_str(&s[start..i]);
        out.push_str(rep);
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
}

/// Whether XML 1.0 allows `c` in a document (surrogates cannot occur in a `char`).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Formats a finite number the way spreadsheets read it back exactly: integers without a
/// fraction, ordinary magnitudes in plain decimal (shortest round-trip form), and only very
/// large or very small magnitudes in exponent form. Returns `None` for NaN and infinities.
pub(crate) fn format_number(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    let a = x.abs();
    Some(if a == 0.0 {
        "0".to_string() // also turns -0 into 0
    } else if a.fract() == 0.0 && a < 1e15 {
        format!("{}", x as i64)
    } else if (1e-5..1e16).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_invalid_characters() {
        assert_eq!(
            xml_escape("a<b>&\"c\" 'd'"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;"
        );
        assert_eq!(xml_escape("x\u{0}\u{1}\u{8}\u{B}\u{C}\u{1F}y"), "xy");
        assert_eq!(xml_escape("\t\n\r应急\u{FFFE}\u{FFFF}"), "\t\n\r应急");
        assert_eq!(xml_escape(""), "");
    }

    #[test]
    fn formats_numbers_without_exponent_for_normal_magnitudes() {
        assert_eq!(format_number(42.0).unwrap(), "42");
        assert_eq!(format_number(-0.0).unwrap(), "0");
        assert_eq!(format_number(0.1).unwrap(), "0.1");
        assert_eq!(format_number(-1234.5).unwrap(), "-1234.5");
        assert_eq!(format_number(1e15).unwrap(), "1000000000000000");
        assert_eq!(format_number(0.00012).unwrap(), "0.00012");
        assert_eq!(format_number(1e300).unwrap(), "1e300");
        assert_eq!(format_number(1e-300).unwrap(), "1e-300");
        assert_eq!(format_number(f64::NAN), None);
        assert_eq!(format_number(f64::NEG_INFINITY), None);
    }
}
