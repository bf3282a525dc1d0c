//! Criterion benchmarks: level classification, simulation, and checking every example plan.
//! Run with `cargo bench -p yingji-plan`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use yingji_plan::classify::{Input, classify};
use yingji_plan::{Source, load, load_set, simulate};

fn examples() -> Vec<Source> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/plans");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            Source::new(
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let srcs = examples();
    let linxiang = srcs
        .iter()
        .find(|s| s.file.ends_with("linxiang-city.toml"))
        .expect("linxiang example");
    let plan = load(&linxiang.text).plan.unwrap();
    let behaviours = vec!["violence".to_string()];

    c.bench_function("classify/linxiang/120", |b| {
        b.iter(|| {
            classify(
                black_box(&plan),
                black_box(&Input {
                    headcount: 120,
                    venue: None,
                    behaviours: &[],
                }),
            )
        })
    });
    c.bench_function("classify/linxiang/30+violence", |b| {
        b.iter(|| {
            classify(
                black_box(&plan),
                black_box(&Input {
                    headcount: 30,
                    venue: None,
                    behaviours: &behaviours,
                }),
            )
        })
    });
    let at: jiff::Timestamp = "2026-03-02T22:00:00+08:00".parse().unwrap();
    c.bench_function("simulate/linxiang/120", |b| {
        b.iter(|| {
            simulate(
                black_box(&plan),
                &Input {
                    headcount: 120,
                    venue: None,
                    behaviours: &[],
                },
                &at,
            )
        })
    });
    c.bench_function("check/all-examples", |b| {
        b.iter(|| load_set(black_box(&srcs)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
