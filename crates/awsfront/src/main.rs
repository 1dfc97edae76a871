//! `awsfront`: play real AWS in front of the emulator (`serve`), or print the critical-path
//! bound of a stack under the timing model (`bound`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use awsfront::{Config, Front, bound};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "awsfront", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve: add AWS's timings and seeded faults to every call on its way to the emulator.
    Serve {
        #[arg(long, default_value = "127.0.0.1:5056")]
        listen: SocketAddr,
        #[arg(long, default_value = "http://127.0.0.1:5055")]
        upstream: String,
        /// Play AWS's timings, multiplied by this (1.0 is AWS's own pace).
        #[arg(long)]
        scale: Option<f64>,
        /// Inject faults: seed=N,rate=0.2,kinds=lost+throttle+500+503+503-plain+404-plain+denied+reset+slow+blackhole,calls=mutating|all|Op1+Op2,each=first|call
        #[arg(long)]
        faults: Option<String>,
        /// One line per call on stderr.
        #[arg(long)]
        log: bool,
    },
    /// The critical-path bound of `up` from empty and of `down`, in seconds at scale 1.0.
    Bound {
        #[arg(short, long, default_value = "stack.toml")]
        file: PathBuf,
        /// The prebuilt image the service runs (without one there is no service).
        #[arg(long)]
        image: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve {
            listen,
            upstream,
            scale,
            faults,
            log,
        } => {
            let faults = match faults {
                Some(text) => Some(text.parse::<awsfront::Plan>().map_err(anyhow::Error::msg)?),
                None => None,
            };
            let config = Config {
                upstream,
                scale,
                faults,
                log,
            };
            let front = Front::start(config, listen).await?;
            eprintln!(
                "awsfront: serving on {} (scale {scale:?})",
                front.endpoint()
            );
            front.wait().await;
        }
        Command::Bound { file, image } => {
            let mut spec = infra::StackSpec::load(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            if image.is_some() {
                spec.services[0].image = image;
            }
            let zones: Vec<String> = (0..spec.network.availability_zones)
                .map(|i| format!("{}{}", spec.region, char::from(b'a' + i as u8)))
                .collect();
            let desired = infra::desired::desired(&spec, &zones);
            for (what, b) in [("up", bound::up(&desired)), ("down", bound::down(&desired))] {
                println!("{what} {:.1} {}", b.seconds, b.path.join(" > "));
            }
        }
    }
    Ok(())
}
