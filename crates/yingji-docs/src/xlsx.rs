//! Writes .xlsx workbooks (Office Open XML SpreadsheetML) for statistics.
//!
//! The package is the minimal one Excel and LibreOffice accept: `[Content_Types].xml`,
//! `_rels/.rels`, `xl/workbook.xml`, `xl/_rels/workbook.xml.rels`, `xl/styles.xml` (style 0 the
//! default, style 1 bold for header rows) and one `xl/worksheets/sheetN.xml` per sheet. Text is
//! written as inline strings (`t="inlineStr"`), so no shared-string table is needed; numbers
//! are written as true numbers (`<v>`), never as text. Header rows are bold and frozen.
//!
//! Spreadsheet limits are the caller's business except where breaking them would make the
//! file unreadable: sheet names are sanitised and made unique, text longer than Excel's
//! 32,767 characters per cell is cut, and a workbook without sheets gets an empty one.
//! Excel's 1,048,576 rows and 16,384 columns per sheet are not checked.

use std::fmt::Write as _;

use crate::{format_number, push_xml_escaped};

/// One cell value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing is written for the cell.
    Empty,
    Text(String),
    Int(i64),
    /// A non-finite number (NaN, ±∞) is written as an empty cell.
    Number(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

/// Values above `i64::MAX` become a [`Cell::Number`] (spreadsheets hold numbers as doubles).
impl From<u64> for Cell {
    fn from(n: u64) -> Self {
        match i64::try_from(n) {
            Ok(n) => Cell::Int(n),
            Err(_) => Cell::Number(n as f64),
        }
    }
}

impl From<f64> for Cell {
    fn from(x: f64) -> Self {
        Cell::Number(x)
    }
}

/// One worksheet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    /// The tab name; sanitised on writing (see [`sanitize_sheet_name`]).
    pub name: String,
    /// Rows of cells; rows may have different lengths.
    pub rows: Vec<Vec<Cell>>,
    /// The first `header_rows` rows are bold and stay visible when scrolling.
    pub header_rows: usize,
    /// Column widths in characters, from column A on; empty for the default width. A
    /// non-finite or non-positive width leaves that column at the default.
    pub widths: Vec<f64>,
}

/// A workbook: its sheets in tab order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
}

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
/// Excel's limit on the characters of one cell (counted in UTF-16 units).
const MAX_CELL_CHARS: usize = 32_767;
/// Excel's limit on the characters of a sheet name.
const MAX_SHEET_NAME: usize = 31;

impl Workbook {
    /// The .xlsx file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let empty = [Sheet::default()];
        let sheets: &[Sheet] = if self.sheets.is_empty() {
            &empty
        } else {
            &self.sheets
        };
        let names = unique_sheet_names(sheets);
        let n = sheets.len();

        let mut types = format!(
            "{XML_DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
             <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>"
        );
        let mut workbook = format!(
            "{XML_DECL}<workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><bookViews><workbookView/></bookViews><sheets>"
        );
        let mut rels = format!(
            "{XML_DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        );
        for (i, name) in names.iter().enumerate() {
            let k = i + 1;
            let _ = write!(
                types,
                "<Override PartName=\"/xl/worksheets/sheet{k}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
            );
            workbook.push_str("<sheet name=\"");
            push_xml_escaped(&mut workbook, name);
            let _ = write!(workbook, "\" sheetId=\"{k}\" r:id=\"rId{k}\"/>");
            let _ = write!(
                rels,
                "<Relationship Id=\"rId{k}\" Type=\"{REL_NS}/worksheet\" Target=\"worksheets/sheet{k}.xml\"/>"
            );
        }
        types.push_str("</Types>");
        workbook.push_str("</sheets></workbook>");
        let _ = write!(
            rels,
            "<Relationship Id=\"rId{}\" Type=\"{REL_NS}/styles\" Target=\"styles.xml\"/></Relationships>",
            n + 1
        );
        let root_rels = format!(
            "{XML_DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"{REL_NS}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
        );

        let sheet_xml: Vec<String> = sheets.iter().map(sheet_xml).collect();
        let sheet_paths: Vec<String> = (1..=n)
            .map(|k| format!("xl/worksheets/sheet{k}.xml"))
            .collect();
        let mut entries: Vec<(&str, &[u8])> = vec![
            ("[Content_Types].xml", types.as_bytes()),
            ("_rels/.rels", root_rels.as_bytes()),
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
            ("xl/styles.xml", STYLES.as_bytes()),
        ];
        for (path, xml) in sheet_paths.iter().zip(&sheet_xml) {
            entries.push((path, xml.as_bytes()));
        }
        crate::zip::write(&entries)
    }
}

/// Font 0 regular, font 1 bold; cell format 0 the default, cell format 1 bold.
const STYLES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>\
<font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>\
<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
<cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs>\
<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
</styleSheet>";

/// One worksheet part, built in a single pass into one preallocated string.
fn sheet_xml(sheet: &Sheet) -> String {
    let ncols = sheet.rows.iter().map(Vec::len).max().unwrap_or(0);
    // Column letters are computed once per sheet, not once per cell.
    let letters: Vec<String> = (0..ncols).map(column_name).collect();
    let estimate: usize = sheet
        .rows
        .iter()
        .flatten()
        .map(|c| match c {
            Cell::Text(s) => 48 + s.len(),
            _ => 32,
        })
        .sum();
    let mut out = String::with_capacity(estimate + sheet.rows.len() * 16 + 1024);
    let _ = write!(
        out,
        "{XML_DECL}<worksheet xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\">"
    );
    if ncols > 0 && !sheet.rows.is_empty() {
        let _ = write!(
            out,
            "<dimension ref=\"A1:{}{}\"/>",
            letters[ncols - 1],
            sheet.rows.len()
        );
    }
    let frozen = sheet.header_rows.min(sheet.rows.len());
    if frozen > 0 {
        let _ = write!(
            out,
            "<sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"{frozen}\" topLeftCell=\"A{}\" \
             activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews>",
            frozen + 1
        );
    } else {
        out.push_str("<sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>");
    }
    out.push_str("<sheetFormatPr defaultRowHeight=\"15\"/>");
    let widths: Vec<(usize, f64)> = sheet
        .widths
        .iter()
        .enumerate()
        .filter(|(_, w)| w.is_finite() && **w > 0.0)
        .map(|(i, w)| (i + 1, w.min(255.0)))
        .collect();
    if !widths.is_empty() {
        out.push_str("<cols>");
        for (col, w) in widths {
            let _ = write!(
                out,
                "<col min=\"{col}\" max=\"{col}\" width=\"{}\" customWidth=\"1\"/>",
                format_number(w).unwrap_or_default()
            );
        }
        out.push_str("</cols>");
    }
    out.push_str("<sheetData>");
    for (r, row) in sheet.rows.iter().enumerate() {
        let r = r + 1;
        let style = if r <= sheet.header_rows {
            " s=\"1\""
        } else {
            ""
        };
        let _ = write!(out, "<row r=\"{r}\">");
        for (c, cell) in row.iter().enumerate() {
            let col = &letters[c];
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    let _ = write!(
                        out,
                        "<c r=\"{col}{r}\"{style} t=\"inlineStr\"><is><t xml:space=\"preserve\">"
                    );
                    push_xml_escaped(&mut out, clip_cell_text(s));
                    out.push_str("</t></is></c>");
                }
                Cell::Int(n) => {
                    let _ = write!(out, "<c r=\"{col}{r}\"{style}><v>{n}</v></c>");
                }
                Cell::Number(x) => {
                    if let Some(v) = format_number(*x) {
                        let _ = write!(out, "<c r=\"{col}{r}\"{style}><v>{v}</v></c>");
                    }
                }
            }
        }
        out.push_str("</row>");
    }
    out.push_str("</sheetData></worksheet>");
    out
}

/// `s` cut to Excel's per-cell limit (counted in UTF-16 units, as Excel does).
fn clip_cell_text(s: &str) -> &str {
    if s.len() <= MAX_CELL_CHARS {
        return s; // UTF-16 units never outnumber UTF-8 bytes
    }
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > MAX_CELL_CHARS {
            return &s[..i];
        }
    }
    s
}

/// The A1-style letters of the 0-based column `index`: 0 → `A`, 25 → `Z`, 26 → `AA`,
/// 701 → `ZZ`, 702 → `AAA`.
pub fn column_name(index: usize) -> String {
    let mut n = index + 1;
    let mut rev = Vec::with_capacity(3);
    while n > 0 {
        let d = (n - 1) % 26;
        rev.push(b'A' + d as u8);
        n = (n - 1) / 26;
    }
    rev.iter().rev().map(|&b| b as char).collect()
}

/// A sheet name Excel accepts: the characters `[ ] : * ? / \` and control characters become
/// `_`, leading and trailing apostrophes and spaces are removed, the result is cut to 31
/// characters, and an empty name becomes `Sheet`. (Uniqueness within a workbook is handled
/// when writing: duplicates get ` (2)`, ` (3)`, …)
pub fn sanitize_sheet_name(name: &str) -> String {
    let replaced: String = name
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = replaced.trim_matches(|c: char| c == '\'' || c.is_whitespace());
    let mut out = truncate_utf16(trimmed, MAX_SHEET_NAME).to_string();
    // Cutting may leave a trailing apostrophe or space.
    out.truncate(out.trim_end_matches(['\'', ' ']).len());
    if out.is_empty() {
        out.push_str("Sheet");
    }
    // "History" is reserved by Excel.
    if out.eq_ignore_ascii_case("history") {
        out.push('_');
    }
    out
}

fn truncate_utf16(s: &str, max: usize) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &s[..i];
        }
    }
    s
}

/// Sanitised names, unique ignoring case (Excel rejects duplicates that differ only in case).
fn unique_sheet_names(sheets: &[Sheet]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(sheets.len());
    let taken =
        |names: &[String], n: &str| names.iter().any(|m| m.to_lowercase() == n.to_lowercase());
    for sheet in sheets {
        let base = sanitize_sheet_name(&sheet.name);
        let mut name = base.clone();
        let mut k = 2;
        while taken(&names, &name) {
            let suffix = format!(" ({k})");
            name = format!(
                "{}{suffix}",
                truncate_utf16(&base, MAX_SHEET_NAME - suffix.len())
            );
            k += 1;
        }
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(zip: &[u8], name: &str) -> String {
        let entries = crate::zip::read(zip);
        let (_, data) = entries
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name}"));
        String::from_utf8(data).unwrap()
    }

    fn sample() -> Workbook {
        Workbook {
            sheets: vec![Sheet {
                name: "按类别统计".into(),
                rows: vec![
                    vec!["类别".into(), "件数".into(), "占比".into()],
                    vec!["群体性事件 <A&B>".into(), 42i64.into(), 0.25.into()],
                    vec![Cell::Empty, 7u64.into(), f64::NAN.into()],
                ],
                header_rows: 1,
                widths: vec![20.0, 8.0],
            }],
        }
    }

    #[test]
    fn package_has_the_minimal_parts() {
        let zip = sample().to_bytes();
        let names: Vec<String> = crate::zip::read(&zip).into_iter().map(|e| e.0).collect();
        assert_eq!(
            names,
            [
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
                "xl/styles.xml",
                "xl/worksheets/sheet1.xml"
            ]
        );
        assert!(
            part(&zip, "xl/workbook.xml")
                .contains("<sheet name=\"按类别统计\" sheetId=\"1\" r:id=\"rId1\"/>")
        );
        assert!(part(&zip, "[Content_Types].xml").contains("/xl/worksheets/sheet1.xml"));
        assert!(part(&zip, "xl/_rels/workbook.xml.rels").contains("Id=\"rId2\""));
        assert_eq!(sample().to_bytes(), zip, "deterministic");
    }

    #[test]
    fn numbers_are_values_and_text_is_inline() {
        let xml = part(&sample().to_bytes(), "xl/worksheets/sheet1.xml");
        assert!(xml.contains("<c r=\"B2\"><v>42</v></c>"), "{xml}");
        assert!(xml.contains("<c r=\"C2\"><v>0.25</v></c>"));
        assert!(xml.contains("<c r=\"B3\"><v>7</v></c>"));
        assert!(!xml.contains("r=\"A3\""), "empty cell written");
        assert!(!xml.contains("r=\"C3\""), "NaN written");
        assert!(xml.contains(
            "<c r=\"A2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">群体性事件 &lt;A&amp;B&gt;</t></is></c>"
        ));
        // Header cells are bold (style 1) and the header row is frozen.
        assert!(xml.contains("<c r=\"B1\" s=\"1\" t=\"inlineStr\">"));
        assert!(xml.contains("ySplit=\"1\""));
        assert!(xml.contains("<dimension ref=\"A1:C3\"/>"));
        assert!(xml.contains("<col min=\"1\" max=\"1\" width=\"20\" customWidth=\"1\"/>"));
    }

    #[test]
    fn column_letters() {
        let cases = [
            (0, "A"),
            (25, "Z"),
            (26, "AA"),
            (51, "AZ"),
            (52, "BA"),
            (701, "ZZ"),
            (702, "AAA"),
            (16_383, "XFD"),
        ];
        for (i, want) in cases {
            assert_eq!(column_name(i), want, "column {i}");
        }
    }

    #[test]
    fn sheet_names_are_sanitised_and_unique() {
        assert_eq!(sanitize_sheet_name("a[b]c:d*e?f/g\\h"), "a_b_c_d_e_f_g_h");
        assert_eq!(sanitize_sheet_name(""), "Sheet");
        assert_eq!(sanitize_sheet_name("'quoted'"), "quoted");
        assert_eq!(sanitize_sheet_name("History"), "History_");
        let long = "统".repeat(40);
        assert_eq!(sanitize_sheet_name(&long).chars().count(), 31);
        let sheets: Vec<Sheet> = ["报表", "报表", "REPORT", "report", &long, &long]
            .iter()
            .map(|n| Sheet {
                name: n.to_string(),
                ..Sheet::default()
            })
            .collect();
        let names = unique_sheet_names(&sheets);
        assert_eq!(names[..4], ["报表", "报表 (2)", "REPORT", "report (2)"]);
        assert_eq!(names[5], format!("{} (2)", "统".repeat(27)));
        assert!(names.iter().all(|n| n.chars().count() <= 31));
    }

    #[test]
    fn workbook_without_sheets_still_has_one() {
        let zip = Workbook::default().to_bytes();
        assert!(part(&zip, "xl/workbook.xml").contains("<sheet name=\"Sheet\""));
        assert!(part(&zip, "xl/worksheets/sheet1.xml").contains("<sheetData></sheetData>"));
    }

    #[test]
    fn overlong_cell_text_is_cut() {
        let s = "字".repeat(40_000);
        assert_eq!(clip_cell_text(&s).chars().count(), MAX_CELL_CHARS);
        assert_eq!(clip_cell_text("短"), "短");
    }

    #[test]
    fn large_sheet_builds_linearly() {
        let rows: Vec<Vec<Cell>> = (0..100_000i64)
            .map(|r| {
                (0..10i64)
                    .map(|c| {
                        if c % 2 == 0 {
                            Cell::Int(r * c)
                        } else {
                            Cell::Text(format!("行{r}"))
                        }
                    })
                    .collect()
            })
            .collect();
        let wb = Workbook {
            sheets: vec![Sheet {
                name: "big".into(),
                rows,
                header_rows: 1,
                widths: Vec::new(),
            }],
        };
        let t = std::time::Instant::now();
        let bytes = wb.to_bytes();
        let took = t.elapsed();
        eprintln!("100,000 x 10 sheet: {} bytes in {took:?}", bytes.len());
        // Generous: debug builds are several times slower than release.
        assert!(took < std::time::Duration::from_secs(20));
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains(
            "<c r=\"J100000\" t=\"inlineStr\"><is><t xml:space=\"preserve\">行99999</t>"
        ));
    }
}
