//! Opens the generated files in LibreOffice (when installed) and checks what it reads back.
//! Skipped, with a note on stderr, when `/usr/bin/soffice` is missing (a failure under CI).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use yingji_docs::docx::{Block, Document};
use yingji_docs::template::Template;
use yingji_docs::xlsx::{Sheet, Workbook};

const SOFFICE: &str = "/usr/bin/soffice";

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("yingji-docs-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs one headless conversion with a private profile, killing it after two minutes.
fn convert(profile: &Path, to: &str, out_dir: &Path, file: &Path) {
    let mut child = Command::new(SOFFICE)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(out_dir)
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start soffice");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            assert!(
                status.success(),
                "soffice failed: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("soffice did not finish converting {}", file.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn libreoffice_reads_docx_and_xlsx() {
    if !Path::new(SOFFICE).exists() {
        // scripts/test.sh installs LibreOffice: under CI its absence is a failure.
        assert!(std::env::var("CI").is_err(), "{SOFFICE} is missing");
        eprintln!("skipped: {SOFFICE} is not installed");
        return;
    }
    let work = TempDir::new("work");
    let profile = TempDir::new("profile");

    // A document rendered from a template, with a table.
    let template = Template::parse(
        r#"title = "关于{place}群体性事件的续报"
number = "{jurisdiction}应急〔2026〕3号"
recipient = "县委、县政府："
signature = ["{jurisdiction}应急指挥部"]
date = "2026年3月1日"

[[section]]
heading = "一、基本情况"
body = """
{place}发生群体性事件，约{people}人聚集 <A&B>。
{missing}
"""

[[section]]
heading = "二、处置情况"
table = "tasks"
"#,
    )
    .unwrap();
    let values: BTreeMap<String, String> = [
        ("place", "某镇"),
        ("jurisdiction", "某县"),
        ("people", "200"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut tables = BTreeMap::new();
    tables.insert(
        "tasks".to_string(),
        (
            vec!["任务".to_string(), "责任单位".to_string()],
            vec![vec!["现场疏导".to_string(), "县公安局".to_string()]],
        ),
    );
    let mut doc: Document = template.render(&values, &tables, "zh-CN");
    doc.footer_note = Some("（此件由 yingji 生成）".into());
    doc.blocks.push(Block::Paragraph("第二段 3.14".into()));
    let docx = work.0.join("report.docx");
    std::fs::write(&docx, doc.to_bytes()).unwrap();

    let wb = Workbook {
        sheets: vec![Sheet {
            name: "按类别统计".into(),
            rows: vec![
                vec!["类别".into(), "件数".into(), "占比".into()],
                vec!["群体性事件".into(), 42i64.into(), 0.25.into()],
                vec!["信访".into(), 1234567i64.into(), 1.5.into()],
            ],
            header_rows: 1,
            widths: vec![16.0, 8.0, 8.0],
        }],
    };
    let xlsx = work.0.join("stats.xlsx");
    std::fs::write(&xlsx, wb.to_bytes()).unwrap();

    let out = work.0.join("out");
    convert(&profile.0, "txt:Text (encoded):UTF8", &out, &docx);
    convert(
        &profile.0,
        "csv:Text - txt - csv (StarCalc):44,34,76,1",
        &out,
        &xlsx,
    );

    let txt = std::fs::read_to_string(out.join("report.txt")).unwrap();
    let txt = txt.trim_start_matches('\u{FEFF}');
    for want in [
        "关于某镇群体性事件的续报",
        "某县应急〔2026〕3号",
        "县委、县政府：",
        "一、基本情况",
        "某镇发生群体性事件，约200人聚集 <A&B>。",
        "二、处置情况",
        "现场疏导",
        "县公安局",
        "第二段 3.14",
        "某县应急指挥部",
        "2026年3月1日",
        "（此件由 yingji 生成）",
    ] {
        assert!(txt.contains(want), "{want:?} missing from:\n{txt}");
    }

    let csv = std::fs::read_to_string(out.join("stats.csv")).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{FEFF}').lines().collect();
    // LibreOffice quotes text cells only, so the bare 42 and 0.25 show that the cells hold
    // numbers, not text.
    assert_eq!(
        lines,
        [
            r#""类别","件数","占比""#,
            r#""群体性事件",42,0.25"#,
            r#""信访",1234567,1.5"#
        ],
        "{csv}"
    );
}
