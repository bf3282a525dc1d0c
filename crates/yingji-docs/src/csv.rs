//! Writes CSV (RFC 4180) for spreadsheets.
//!
//! The text starts with a UTF-8 byte order mark, without which Excel reads UTF-8 as the local
//! ANSI code page and garbles Chinese. Every record ends with CRLF. A field is quoted when it
//! holds a comma, a double quote, CR or LF, with inner quotes doubled. Text beginning with
//! `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so that a spreadsheet shows it instead of
//! evaluating it as a formula (CSV injection). Numbers are written plainly: integers as
//! integers, other numbers in the shortest form that reads back exactly, in exponent form only
//! for very large or very small magnitudes; non-finite numbers are empty fields.

use crate::format_number;
use crate::xlsx::Cell;

/// The CSV text of `rows` (write it to a file as UTF-8 bytes; the BOM is included).
pub fn write(rows: &[Vec<Cell>]) -> String {
    let mut out = String::with_capacity(3 + rows.iter().map(|r| r.len() * 12 + 2).sum::<usize>());
    out.push('\u{FEFF}');
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => push_text(&mut out, s),
                Cell::Int(n) => out.push_str(&n.to_string()),
                Cell::Number(x) => out.push_str(&format_number(*x).unwrap_or_default()),
            }
        }
        out.push_str("\r\n");
    }
    out
}

fn push_text(out: &mut String, s: &str) {
    let guard = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        if guard {
            out.push('\'');
        }
        for c in s.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        if guard {
            out.push('\'');
        }
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_crlf_and_plain_fields() {
        let rows = vec![
            vec!["类别".into(), "件数".into()],
            vec!["群体性事件".into(), 42i64.into(), Cell::Empty, 0.5.into()],
            vec![],
        ];
        assert_eq!(
            write(&rows),
            "\u{FEFF}类别,件数\r\n群体性事件,42,,0.5\r\n\r\n"
        );
        assert!(write(&rows).as_bytes().starts_with(&[0xEF, 0xBB, 0xBF]));
        assert_eq!(write(&[]), "\u{FEFF}");
    }

    #[test]
    fn quotes_per_rfc_4180() {
        let rows = vec![vec![
            "a,b".into(),
            "say \"hi\"".into(),
            "two\nlines".into(),
            "cr\rhere".into(),
            "plain".into(),
        ]];
        assert_eq!(
            write(&rows),
            "\u{FEFF}\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",plain\r\n"
        );
    }

    #[test]
    fn guards_against_formula_injection() {
        let rows = vec![vec![
            "=1+1".into(),
            "+86 139".into(),
            "-2".into(),
            "@SUM(A1)".into(),
            "\tx".into(),
            "\rx".into(),
            "=HYPERLINK(\"a\",\"b\")".into(),
            "a=b".into(),
            Cell::Int(-2),
        ]];
        assert_eq!(
            write(&rows),
            "\u{FEFF}'=1+1,'+86 139,'-2,'@SUM(A1),'\tx,\"'\rx\",\"'=HYPERLINK(\"\"a\"\",\"\"b\"\")\",a=b,-2\r\n"
        );
    }

    #[test]
    fn numbers_are_plain() {
        let rows = vec![vec![
            Cell::Int(i64::MIN),
            Cell::Number(1234567.0),
            Cell::Number(0.1 + 0.2),
            Cell::Number(-0.0),
            Cell::Number(f64::INFINITY),
            Cell::Number(123456789.125),
        ]];
        assert_eq!(
            write(&rows),
            "\u{FEFF}-9223372036854775808,1234567,0.30000000000000004,0,,123456789.125\r\n"
        );
    }
}
