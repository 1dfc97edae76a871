//! `stackctl`: the command-line front of the `infra` reconciler.

fn main() {
    println!("stackctl {}", env!("CARGO_PKG_VERSION"));
}
