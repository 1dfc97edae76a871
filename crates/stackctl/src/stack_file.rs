//! The stack file as the command line reads it: which one (`-f`, else `./stack.toml`), its
//! problems said with where to look, and what of it is tagged on the stack
//! (`stackctl:source`).

use std::path::Path;

use infra::StackSpec;

/// The stack file when `-f` names none.
pub const DEFAULT: &str = "stack.toml";

/// Reads and validates the stack file; every problem is in the error.
pub fn load(path: &Path) -> anyhow::Result<StackSpec> {
    match StackSpec::load(path) {
        Ok(spec) => Ok(spec),
        Err(infra::stack_file::LoadError::Read { path, source })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            anyhow::bail!(
                "no stack file at {}: run stackctl where your stack.toml is, or pass -f PATH",
                path.display()
            )
        }
        Err(err) => Err(err.into()),
    }
}

/// An error of reading the stack's state from AWS, with where the stack file declares what
/// could not be read (`stack.toml:7:15: [services.api.autoscaling] needs scalable targets`).
pub fn reading_state(err: infra::Error, file: &Path) -> anyhow::Error {
    let context = match &err {
        infra::Error::Needed { part, what, .. } => needed(*part, what, file),
        _ => None,
    };
    let context =
        context.unwrap_or_else(|| "while reading the stack's current state from AWS".to_owned());
    anyhow::Error::new(err).context(context)
}

fn needed(part: infra::stack_file::declaring::Part, what: &str, file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let declared = infra::stack_file::declaring::declaring_at(&text, part)?;
    let place = match declared.at {
        Some((line, column)) => format!("{}:{line}:{column}", file.display()),
        None => file.display().to_string(),
    };
    Some(format!(
        "{place}: {} needs {what}, which could not be read",
        declared.what
    ))
}

/// The stack's name and region: from `--stack-name`/`--region` when given, else the stack file.
pub fn name_and_region(by: &crate::cli::ByName, file: &Path) -> anyhow::Result<(String, String)> {
    match &by.stack_name {
        Some(name) => Ok((name.clone(), by.region.clone())),
        None => {
            let spec = load(file)?;
            Ok((spec.name, spec.region))
        }
    }
}

/// Which stack file a stack is made from, tagged on its VPC (`stackctl:source`) so that a
/// file whose stack name changes can name the stack it used to make. It never carries a local
/// path or a secret: in a git repository with an `origin`, the remote's URL (without any
/// user or password in it) and the file's path in the repository, the same from every clone;
/// otherwise `sha256:` and a hash of this machine's name and the file's absolute path.
pub fn source_of(file: &Path) -> Option<String> {
    let file = std::fs::canonicalize(file).ok()?;
    let dir = file.parent()?;
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let name = file.file_name()?.to_string_lossy();
    let source = match (
        git(&["remote", "get-url", "origin"]),
        git(&["rev-parse", "--show-prefix"]),
    ) {
        (Some(remote), Some(prefix)) if !remote.is_empty() => {
            format!("{}#{prefix}{name}", without_userinfo(&remote))
        }
        _ => {
            use sha2::Digest as _;
            let host = nix::unistd::gethostname().unwrap_or_default();
            let mut hash = sha2::Sha256::new();
            hash.update(host.as_encoded_bytes());
            hash.update([0]);
            hash.update(file.as_os_str().as_encoded_bytes());
            let hex: String = hash
                .finalize()
                .iter()
                .take(12)
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("sha256:{hex}")
        }
    };
    // EC2 tag values hold 256 characters; the end of a path tells files apart best.
    let chars: Vec<char> = source.chars().collect();
    Some(chars[chars.len().saturating_sub(256)..].iter().collect())
}

/// A remote's URL without the `user:password@` an HTTPS remote may carry.
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            format!("{scheme}://{host}/{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_tag_carries_no_password_and_no_local_path() {
        assert_eq!(
            without_userinfo("https://bob:ghp_secret@github.com/acme/shop.git"),
            "https://github.com/acme/shop.git"
        );
        assert_eq!(
            without_userinfo("git@github.com:acme/shop.git"),
            "git@github.com:acme/shop.git"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stack.toml");
        std::fs::write(&file, "").unwrap();
        let source = source_of(&file).unwrap();
        assert!(source.starts_with("sha256:"), "{source}");
        assert!(!source.contains(&*dir.path().to_string_lossy()), "{source}");
        assert_eq!(
            source_of(&file),
            Some(source),
            "the same file, the same tag"
        );
    }
}
