//! Writes .docx documents (Office Open XML WordprocessingML) laid out like a Chinese official
//! document.
//!
//! The package is the minimal one Word and LibreOffice accept: `[Content_Types].xml`,
//! `_rels/.rels`, `word/document.xml`, `word/_rels/document.xml.rels` (which links the styles),
//! `word/styles.xml` and `docProps/core.xml` (with `dc:title`).
//!
//! Layout, top to bottom, on A4 with 2.5 cm margins:
//! - the title, centred, bold, 22 pt (二号), in 宋体;
//! - the document number (文号), centred;
//! - the recipient (主送), flush left;
//! - the body: headings bold 16 pt (三号), paragraphs 16 pt in 仿宋, justified, with a two-character
//!   first-line indent, tables (12 pt) with single borders and a bold header row that repeats
//!   on every page;
//! - the issuing body (signature) lines and the date, right-aligned;
//! - an optional small footer note (10.5 pt).
//!
//! Latin text uses Times New Roman throughout. Text is escaped; a line feed inside the title,
//! a heading or a table cell becomes a line break, and a tab a tab stop.

use std::fmt::Write as _;

use crate::push_xml_escaped;

/// One piece of the body.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A bold heading such as `一、基本情况`.
    Heading(String),
    /// Body text; each line (split at `\n`) becomes its own indented paragraph, and blank lines
    /// are skipped.
    Paragraph(String),
    /// A bordered table. Rows shorter than the widest row are padded with empty cells; an empty
    /// `header` means no header row.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// A document to write; see the module documentation for the layout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Centred, bold, 22 pt; also the `dc:title` of the file.
    pub title: String,
    /// The document number (文号) line, centred below the title, e.g. `某县应急〔2026〕3号`.
    pub number: Option<String>,
    /// The recipient (主送) line, flush left, written as given (end it with `：`).
    pub recipient: Option<String>,
    pub blocks: Vec<Block>,
    /// Issuing body lines, right-aligned.
    pub signature: Vec<String>,
    /// Right-aligned below the signature.
    pub date: Option<String>,
    /// Small text at the very end, e.g. `（此件由 yingji 生成）`.
    pub footer_note: Option<String>,
    /// The East Asian language tag (`w:lang w:eastAsia`), e.g. `zh-CN`; empty means `zh-CN`.
    pub language: String,
}

const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// A4 in twentieths of a point.
const PAGE_W: u32 = 11_906;
const PAGE_H: u32 = 16_838;
/// 2.5 cm.
const MARGIN: u32 = 1_418;
/// The width of the text block, which tables fill.
const TEXT_W: u32 = PAGE_W - 2 * MARGIN;

/// Font sizes in half-points.
const SZ_TITLE: u32 = 44; // 22 pt, 二号
const SZ_BODY: u32 = 32; // 16 pt, 三号
const SZ_TABLE: u32 = 24; // 12 pt, 小四
const SZ_NOTE: u32 = 21; // 10.5 pt, 五号

/// Paragraph alignment.
#[derive(Clone, Copy)]
enum Jc {
    Left,
    /// Justified on both sides, for body text.
    Both,
    Center,
    Right,
}

impl Document {
    /// The .docx file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let language = if self.language.trim().is_empty() {
            "zh-CN"
        } else {
            self.language.trim()
        };
        let document = self.document_xml();
        let styles = styles_xml(language);
        let mut core = format!(
            "{XML_DECL}<cp:coreProperties \
             xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
             xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>"
        );
        push_xml_escaped(&mut core, &self.title.replace('\n', " "));
        core.push_str("</dc:title><dc:language>");
        push_xml_escaped(&mut core, language);
        core.push_str("</dc:language></cp:coreProperties>");

        let types = format!(
            "{XML_DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
             <Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
             <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
             </Types>"
        );
        let root_rels = format!(
            "{XML_DECL}<Relationships xmlns=\"{PKG_REL_NS}\">\
             <Relationship Id=\"rId1\" Type=\"{R_NS}/officeDocument\" Target=\"word/document.xml\"/>\
             <Relationship Id=\"rId2\" Type=\"{PKG_REL_NS}/metadata/core-properties\" Target=\"docProps/core.xml\"/>\
             </Relationships>"
        );
        let doc_rels = format!(
            "{XML_DECL}<Relationships xmlns=\"{PKG_REL_NS}\">\
             <Relationship Id=\"rId1\" Type=\"{R_NS}/styles\" Target=\"styles.xml\"/></Relationships>"
        );
        crate::zip::write(&[
            ("[Content_Types].xml", types.as_bytes()),
            ("_rels/.rels", root_rels.as_bytes()),
            ("word/document.xml", document.as_bytes()),
            ("word/_rels/document.xml.rels", doc_rels.as_bytes()),
            ("word/styles.xml", styles.as_bytes()),
            ("docProps/core.xml", core.as_bytes()),
        ])
    }

    fn document_xml(&self) -> String {
        let mut out = String::with_capacity(4096);
        let _ = write!(
            out,
            "{XML_DECL}<w:document xmlns:w=\"{W_NS}\" xmlns:r=\"{R_NS}\"><w:body>"
        );
        para(&mut out, "Title", Jc::Center, None, &self.title);
        if let Some(number) = &self.number {
            para(&mut out, "", Jc::Center, None, number);
        }
        if self.number.is_some() || self.recipient.is_some() {
            empty_para(&mut out);
        }
        if let Some(recipient) = &self.recipient {
            para(&mut out, "", Jc::Left, None, recipient);
        }
        let mut last_was_table = false;
        for block in &self.blocks {
            last_was_table = false;
            match block {
                Block::Heading(h) => para(&mut out, "Heading1", Jc::Left, None, h),
                Block::Paragraph(p) => {
                    for line in p.lines().filter(|l| !l.trim().is_empty()) {
                        para(&mut out, "BodyText", Jc::Both, None, line);
                    }
                }
                Block::Table { header, rows } => {
                    last_was_table = table(&mut out, header, rows);
                }
            }
        }
        if !self.signature.is_empty() || self.date.is_some() {
            // Word needs a paragraph between a table and what follows; a blank line is wanted
            // before the signature anyway.
            empty_para(&mut out);
            empty_para(&mut out);
            last_was_table = false;
        }
        for line in &self.signature {
            para(&mut out, "", Jc::Right, None, line);
        }
        if let Some(date) = &self.date {
            para(&mut out, "", Jc::Right, None, date);
        }
        if let Some(note) = &self.footer_note {
            empty_para(&mut out);
            para(&mut out, "", Jc::Left, Some(SZ_NOTE), note);
            last_was_table = false;
        }
        if last_was_table {
            // A body must not end with a table (Word then repairs the file).
            empty_para(&mut out);
        }
        let _ = write!(
            out,
            "<w:sectPr><w:pgSz w:w=\"{PAGE_W}\" w:h=\"{PAGE_H}\"/>\
             <w:pgMar w:top=\"{MARGIN}\" w:right=\"{MARGIN}\" w:bottom=\"{MARGIN}\" w:left=\"{MARGIN}\" \
             w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
        );
        out
    }
}

fn empty_para(out: &mut String) {
    out.push_str("<w:p/>");
}

/// A paragraph of one run. `style` may be empty (Normal); `size` overrides the style's size.
fn para(out: &mut String, style: &str, jc: Jc, size: Option<u32>, text: &str) {
    out.push_str("<w:p><w:pPr>");
    if !style.is_empty() {
        let _ = write!(out, "<w:pStyle w:val=\"{style}\"/>");
    }
    // Direct formatting repeats what the styles say, so the layout survives a reader that
    // ignores custom styles.
    if style == "BodyText" {
        out.push_str("<w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/>");
    }
    out.push_str(match jc {
        Jc::Left => "<w:jc w:val=\"left\"/>",
        Jc::Both => "<w:jc w:val=\"both\"/>",
        Jc::Center => "<w:jc w:val=\"center\"/>",
        Jc::Right => "<w:jc w:val=\"right\"/>",
    });
    out.push_str("</w:pPr>");
    let bold = matches!(style, "Title" | "Heading1");
    let size = size.or((style == "Title").then_some(SZ_TITLE));
    run(out, bold, size, text);
    out.push_str("</w:p>");
}

/// A run of `text`; line feeds become line breaks and tabs become tabs.
fn run(out: &mut String, bold: bool, size: Option<u32>, text: &str) {
    if text.is_empty() {
        return;
    }
    out.push_str("<w:r>");
    if bold || size.is_some() {
        out.push_str("<w:rPr>");
        if bold {
            out.push_str("<w:b/><w:bCs/>");
        }
        if let Some(sz) = size {
            let _ = write!(out, "<w:sz w:val=\"{sz}\"/><w:szCs w:val=\"{sz}\"/>");
        }
        out.push_str("</w:rPr>");
    }
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<w:br/>");
        }
        for (j, piece) in line.trim_end_matches('\r').split('\t').enumerate() {
            if j > 0 {
                out.push_str("<w:tab/>");
            }
            if !piece.is_empty() {
                out.push_str("<w:t xml:space=\"preserve\">");
                push_xml_escaped(out, piece);
                out.push_str("</w:t>");
            }
        }
    }
    out.push_str("</w:r>");
}

/// A bordered table filling the text width. Returns whether anything was written (a table
/// without columns is not).
fn table(out: &mut String, header: &[String], rows: &[Vec<String>]) -> bool {
    let ncols = rows
        .iter()
        .map(Vec::len)
        .chain([header.len()])
        .max()
        .unwrap_or(0);
    if ncols == 0 {
        return false;
    }
    let col_w = TEXT_W / ncols as u32;
    out.push_str("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/>");
    let _ = write!(
        out,
        "<w:tblW w:w=\"{}\" w:type=\"dxa\"/>",
        col_w * ncols as u32
    );
    out.push_str("<w:tblBorders>");
    for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
        let _ = write!(
            out,
            "<w:{side} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
        );
    }
    out.push_str("</w:tblBorders><w:tblLayout w:type=\"fixed\"/></w:tblPr><w:tblGrid>");
    for _ in 0..ncols {
        let _ = write!(out, "<w:gridCol w:w=\"{col_w}\"/>");
    }
    out.push_str("</w:tblGrid>");
    if !header.is_empty() {
        table_row(out, header, ncols, col_w, true);
    }
    for row in rows {
        table_row(out, row, ncols, col_w, false);
    }
    out.push_str("</w:tbl>");
    true
}

fn table_row(out: &mut String, cells: &[String], ncols: usize, col_w: u32, header: bool) {
    out.push_str("<w:tr>");
    if header {
        // Repeat the header row at the top of every page.
        out.push_str("<w:trPr><w:tblHeader/></w:trPr>");
    }
    for i in 0..ncols {
        let text = cells.get(i).map_or("", String::as_str);
        let _ = write!(
            out,
            "<w:tc><w:tcPr><w:tcW w:w=\"{col_w}\" w:type=\"dxa\"/></w:tcPr><w:p><w:pPr>\
             <w:spacing w:line=\"360\" w:lineRule=\"auto\"/>"
        );
        if header {
            out.push_str("<w:jc w:val=\"center\"/>");
        }
        out.push_str("</w:pPr>");
        run(out, header, Some(SZ_TABLE), text);
        // Every cell needs a paragraph, even an empty one.
        out.push_str("</w:p></w:tc>");
    }
    out.push_str("</w:tr>");
}

/// Styles: document defaults (Times New Roman / 仿宋, 16 pt, the language), Normal, Title
/// (宋体 22 pt bold, centred), Heading1 (bold, outline level 1 in Word's terms), BodyText (two-character
/// first-line indent) and TableGrid.
fn styles_xml(language: &str) -> String {
    let mut lang = String::new();
    push_xml_escaped(&mut lang, language);
    format!(
        "{XML_DECL}<w:styles xmlns:w=\"{W_NS}\">\
<w:docDefaults><w:rPrDefault><w:rPr>\
<w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:cs=\"Times New Roman\" w:eastAsia=\"仿宋\"/>\
<w:sz w:val=\"{SZ_BODY}\"/><w:szCs w:val=\"{SZ_BODY}\"/>\
<w:lang w:val=\"en-US\" w:eastAsia=\"{lang}\" w:bidi=\"ar-SA\"/>\
</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after=\"0\" w:line=\"560\" w:lineRule=\"exact\"/>\
</w:pPr></w:pPrDefault></w:docDefaults>\
<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/></w:style>\
<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/><w:basedOn w:val=\"Normal\"/>\
<w:next w:val=\"Normal\"/><w:qFormat/><w:pPr><w:spacing w:before=\"240\" w:after=\"240\" w:line=\"240\" w:lineRule=\"auto\"/>\
<w:jc w:val=\"center\"/></w:pPr>\
<w:rPr><w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:eastAsia=\"宋体\"/><w:b/><w:bCs/>\
<w:sz w:val=\"{SZ_TITLE}\"/><w:szCs w:val=\"{SZ_TITLE}\"/></w:rPr></w:style>\
<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/>\
<w:next w:val=\"BodyText\"/><w:qFormat/><w:pPr><w:keepNext/><w:outlineLvl w:val=\"0\"/></w:pPr>\
<w:rPr><w:b/><w:bCs/></w:rPr></w:style>\
<w:style w:type=\"paragraph\" w:styleId=\"BodyText\"><w:name w:val=\"Body Text\"/><w:basedOn w:val=\"Normal\"/>\
<w:qFormat/><w:pPr><w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/><w:jc w:val=\"both\"/></w:pPr></w:style>\
<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\"><w:name w:val=\"Normal Table\"/>\
<w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/><w:tblCellMar><w:top w:w=\"0\" w:type=\"dxa\"/>\
<w:left w:w=\"108\" w:type=\"dxa\"/><w:bottom w:w=\"0\" w:type=\"dxa\"/><w:right w:w=\"108\" w:type=\"dxa\"/>\
</w:tblCellMar></w:tblPr></w:style>\
<w:style w:type=\"table\" w:styleId=\"TableGrid\"><w:name w:val=\"Table Grid\"/><w:basedOn w:val=\"TableNormal\"/>\
<w:pPr><w:spacing w:line=\"360\" w:lineRule=\"auto\"/></w:pPr></w:style>\
</w:styles>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn part(zip: &[u8], name: &str) -> String {
        let (_, data) = crate::zip::read(zip)
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name}"));
        String::from_utf8(data).unwrap()
    }

    fn sample() -> Document {
        Document {
            title: "关于某镇<群体性>事件的报告".into(),
            number: Some("某县应急〔2026〕3号".into()),
            recipient: Some("县委、县政府：".into()),
            blocks: vec![
                Block::Heading("一、基本情况".into()),
                Block::Paragraph("第一段 A&B。\n\n第二段\t“引号”".into()),
                Block::Table {
                    header: vec!["任务".into(), "责任单位".into(), "状态".into()],
                    rows: vec![
                        vec!["疏导".into(), "公安局".into()],
                        vec!["安抚\n解释".into()],
                    ],
                },
            ],
            signature: vec!["某县应急指挥部".into()],
            date: Some("2026年3月1日".into()),
            footer_note: Some("（此件由 yingji 生成）".into()),
            language: "zh-CN".into(),
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
                "word/document.xml",
                "word/_rels/document.xml.rels",
                "word/styles.xml",
                "docProps/core.xml"
            ]
        );
        let core = part(&zip, "docProps/core.xml");
        assert!(core.contains("<dc:title>关于某镇&lt;群体性&gt;事件的报告</dc:title>"));
        let styles = part(&zip, "word/styles.xml");
        assert!(styles.contains("w:eastAsia=\"仿宋\""));
        assert!(styles.contains("w:eastAsia=\"宋体\""));
        assert!(styles.contains("<w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\""));
        assert!(styles.contains("<w:sz w:val=\"32\"/>"));
        assert_eq!(sample().to_bytes(), zip, "deterministic");
    }

    #[test]
    fn document_text_is_escaped_and_laid_out() {
        let xml = part(&sample().to_bytes(), "word/document.xml");
        assert!(xml.contains(
            "<w:pStyle w:val=\"Title\"/><w:jc w:val=\"center\"/></w:pPr><w:r><w:rPr><w:b/><w:bCs/>\
             <w:sz w:val=\"44\"/><w:szCs w:val=\"44\"/></w:rPr><w:t xml:space=\"preserve\">关于某镇&lt;群体性&gt;事件的报告</w:t>"
        ), "{xml}");
        assert!(xml.contains("<w:jc w:val=\"center\"/></w:pPr><w:r><w:t xml:space=\"preserve\">某县应急〔2026〕3号</w:t>"));
        assert!(xml.contains(">县委、县政府：<"));
        assert!(xml.contains(
            "<w:pStyle w:val=\"Heading1\"/><w:jc w:val=\"left\"/></w:pPr><w:r><w:rPr><w:b/>"
        ));
        // Two paragraphs (the blank line is skipped), each indented two characters.
        assert_eq!(xml.matches("w:firstLineChars=\"200\"").count(), 2);
        assert!(xml.contains(">第一段 A&amp;B。</w:t>"));
        assert!(xml.contains(">第二段</w:t><w:tab/><w:t xml:space=\"preserve\">“引号”</w:t>"));
        // Table: borders, a bold repeated header row, short rows padded, line breaks in cells.
        assert!(xml.contains("<w:insideV w:val=\"single\""));
        assert!(xml.contains("<w:trPr><w:tblHeader/></w:trPr>"));
        assert_eq!(xml.matches("<w:tc>").count(), 9);
        assert!(xml.contains(">安抚</w:t><w:br/><w:t xml:space=\"preserve\">解释</w:t>"));
        assert!(xml.contains(
            "<w:jc w:val=\"right\"/></w:pPr><w:r><w:t xml:space=\"preserve\">某县应急指挥部</w:t>"
        ));
        assert!(xml.contains("<w:sz w:val=\"21\"/><w:szCs w:val=\"21\"/></w:rPr><w:t xml:space=\"preserve\">（此件由 yingji 生成）"));
        assert!(xml.contains("<w:pgSz w:w=\"11906\" w:h=\"16838\"/>"));
        // The sections appear in order.
        let order = [
            "报告",
            "3号",
            "县委",
            "基本情况",
            "第一段",
            "疏导",
            "指挥部",
            "2026年3月1日",
            "此件",
        ];
        let pos: Vec<usize> = order.iter().map(|s| xml.find(s).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
    }

    #[test]
    fn body_never_ends_with_a_table() {
        let doc = Document {
            title: "表".into(),
            blocks: vec![Block::Table {
                header: vec![],
                rows: vec![vec!["x".into()]],
            }],
            ..Document::default()
        };
        let xml = part(&doc.to_bytes(), "word/document.xml");
        assert!(xml.contains("</w:tbl><w:p/><w:sectPr>"), "{xml}");
        assert!(!xml.contains("tblHeader"));
    }
}
