//! `sqlx::migrate!` embeds the migrations at compile time, but on stable Rust the macro cannot
//! tell cargo to watch them: a new migration file would not be compiled in.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
