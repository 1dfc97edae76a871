//! The service's image when no prebuilt one is given: built from the Dockerfile with an OCI
//! builder found on the machine (docker, podman or buildah), tagged with a hash of the git
//! working tree's content, and pushed to the stack's ECR repository
//! after logging in with `GetAuthorizationToken`. A tag already in the repository is neither
//! built nor pushed again.
//!
//! `Settings::registry` sends the image to another registry instead (a local one for tests).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use aws_sdk_ecr::types::ImageIdentifier;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Logical id of the repository it is pushed to.
    pub repository: ResourceId,
    /// That repository's name.
    pub repository_name: String,
    pub tag: String,
    pub context: PathBuf,
    pub dockerfile: PathBuf,
}

/// The OCI builders stackctl knows, in the order it looks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    Docker,
    Podman,
    Buildah,
}

impl Builder {
    fn program(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
            Self::Buildah => "buildah",
        }
    }

    /// The first builder on `PATH` that works (docker also needs its engine).
    pub async fn find() -> Result<Self> {
        for builder in [Self::Docker, Self::Podman, Self::Buildah] {
            if !on_path(builder.program()) {
                continue;
            }
            if builder == Self::Docker {
                let engine = tokio::process::Command::new("docker")
                    .arg("info")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                match tokio::time::timeout(std::time::Duration::from_secs(15), engine).await {
                    Ok(Ok(status)) if status.success() => {}
                    _ => continue,
                }
            }
            return Ok(builder);
        }
        Err(Error::Program {
            resource: ResourceId::IMAGE,
            message: "there is no image to deploy: set service.image (or pass --image) to a \
                      prebuilt image, or install docker (with its engine running), podman or \
                      buildah so stackctl can build the Dockerfile"
                .into(),
            source: None,
        })
    }

    fn build_args(self, reference: &str, dockerfile: &Path, context: &Path) -> Vec<String> {
        let verb = if self == Self::Buildah {
            "bud"
        } else {
            "build"
        };
        vec![
            verb.into(),
            "-t".into(),
            reference.into(),
            "-f".into(),
            dockerfile.display().to_string(),
            context.display().to_string(),
        ]
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let candidate = dir.join(program);
            std::fs::metadata(&candidate).is_ok_and(|m| m.is_file())
        })
    })
}

/// A tag derived from the content of `dir`'s git working tree (tracked files, committed or
/// not; untracked files are not part of it).
pub fn content_tag(dir: &Path) -> Result<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(head) = git(&["rev-parse", "HEAD"]) else {
        return Err(Error::Program {
            resource: ResourceId::IMAGE,
            message: format!(
                "{} is not in a git repository, so no image tag can be derived; pass --image",
                dir.display()
            ),
            source: None,
        });
    };
    // `git stash create` writes a commit of the working tree without touching it (nothing when
    // there is nothing uncommitted). The tag is its *tree*: a hash of the content alone, so
    // the same files give the same tag on every run and every machine.
    let commit = git(&["stash", "create"])
        .filter(|s| !s.is_empty())
        .unwrap_or(head);
    let tree =
        git(&["rev-parse", &format!("{commit}^{{tree}}")]).ok_or_else(|| Error::Program {
            resource: ResourceId::IMAGE,
            message: "git could not name the working tree".into(),
            source: None,
        })?;
    Ok(tree.chars().take(12).collect())
}

impl Image {
    /// The repository the image goes to, without the tag.
    fn repository_uri(&self, ctx: &Context, refs: &Outputs, id: &ResourceId) -> Result<String> {
        match &ctx.settings.registry {
            Some(registry) => Ok(format!("{registry}/{}", self.repository_name)),
            None => Ref::new(refs, &self.repository, Attr::Url).resolve(refs, id),
        }
    }

    /// The pushed reference, if the tag is already in the repository (or the override
    /// registry).
    async fn pushed(&self, ctx: &Context) -> Result<Option<String>> {
        if let Some(registry) = &ctx.settings.registry {
            let url = format!(
                "http://{registry}/v2/{}/manifests/{}",
                self.repository_name, self.tag
            );
            let response = reqwest::Client::new()
                .head(&url)
                .header(
                    "Accept",
                    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
                )
                .send()
                .await
                .map_err(|source| Error::Registry {
                    registry: registry.clone(),
                    source,
                })?;
            return Ok(response
                .status()
                .is_success()
                .then(|| format!("{registry}/{}:{}", self.repository_name, self.tag)));
        }
        let out = match ctx
            .ecr
            .describe_images()
            .repository_name(&self.repository_name)
            .image_ids(ImageIdentifier::builder().image_tag(&self.tag).build())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if matches!(
                    e.code(),
                    Some("ImageNotFoundException" | "RepositoryNotFoundException")
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(Error::aws("image", "DescribeImages", e)),
        };
        Ok(out.image_details().first().map(|d| {
            let registry = d.registry_id().unwrap_or_default();
            format!(
                "{registry}.dkr.ecr.{}.amazonaws.com/{}:{}",
                ctx.region, self.repository_name, self.tag
            )
        }))
    }
}

impl Resource for Image {
    type State = ();
    type Field = NoField;
    const LABEL: &'static str = "image";
    const TAGGING: Tagging = Tagging::None;

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.repository]
    }

    /// Images carry no tags: each wanted image is found by its content-derived tag. Images
    /// go with their repository, so `down` (which wants none) finds none.
    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let mut found = Vec::new();
        for w in wanted {
            if let Some(reference) = w.spec.pushed(scope.ctx).await? {
                found.push(Found {
                    id: w.id.to_owned(),
                    detail: (),
                    aws_id: reference,
                    arn: None,
                    state: "pushed".into(),
                    tags: Tags::new(),
                });
            }
        }
        Ok(found)
    }

    /// Its tag is a hash of its content: found means up to date.
    fn diff(&self, _: &(), _: &Outputs) -> Diff<NoField> {
        Diff::default()
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        build_and_push(ctx, self, new).await
    }

    async fn retag(_: &Context, _: &Found<()>, _: &Tags) -> Result<()> {
        Ok(())
    }

    /// Images go with their repository, and its lifecycle policy expires old ones.
    async fn delete(_: &Context, _: &Found<()>, _: Wait<'_>) -> Result<()> {
        Ok(())
    }

    fn uses(_: &Found<()>) -> Vec<String> {
        Vec::new()
    }

    fn output(found: &Found<()>) -> Output {
        Output {
            url: Some(found.aws_id.clone()),
            ..Output::id(found.aws_id.clone())
        }
    }
}

async fn run(id: &ResourceId, program: &str, args: &[String], stdin: Option<String>) -> Result<()> {
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let failed = |message: String| {
        move |source| Error::Program {
            resource: id.clone(),
            message,
            source: Some(source),
        }
    };
    let mut child = command
        .spawn()
        .map_err(failed(format!("cannot run {program}")))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use tokio::io::AsyncWriteExt;
        pipe.write_all(input.as_bytes())
            .await
            .map_err(failed(format!("cannot write to {program}")))?;
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(failed(format!("{program} failed to run")))?;
    if output.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&output.stderr) + String::from_utf8_lossy(&output.stdout);
    let tail: Vec<&str> = text
        .lines()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Err(Error::Program {
        resource: id.clone(),
        message: format!(
            "`{program} {}` failed ({}):\n{}",
            args.first().map_or("", String::as_str),
            output.status,
            tail.join("\n")
        ),
        source: None,
    })
}

/// Builds, logs in and pushes; returns the pushed reference.
async fn build_and_push(ctx: &Context, desired: &Image, new: New<'_>) -> Result<Output> {
    let (id, on_wait) = (new.id, new.wait);
    let repository = desired.repository_uri(ctx, new.refs, id)?;
    let reference = format!("{repository}:{}", desired.tag);
    let builder = Builder::find().await?;
    let program = builder.program();
    on_wait(format!("building {reference} with {program}"));
    run(
        id,
        program,
        &builder.build_args(&reference, &desired.dockerfile, &desired.context),
        None,
    )
    .await?;
    let registry = repository.split('/').next().unwrap_or_default().to_owned();
    let mut push = vec!["push".to_owned()];
    if ctx.settings.registry.is_some() {
        // The override is a plain-HTTP registry on loopback.
        if builder != Builder::Docker {
            push.push("--tls-verify=false".into());
        }
    } else {
        on_wait(format!("logging in to {registry}"));
        let token = ctx
            .ecr
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| Error::aws(id, "GetAuthorizationToken", e))?;
        let encoded = token
            .authorization_data()
            .first()
            .and_then(|d| d.authorization_token())
            .ok_or_else(|| Error::incomplete(id, "GetAuthorizationToken", "token"))?;
        let decoded = base64_decode(encoded)
            .ok_or_else(|| Error::incomplete(id, "GetAuthorizationToken", "base64 token"))?;
        let password = decoded
            .split_once(':')
            .map_or(decoded.as_str(), |(_, p)| p)
            .to_owned();
        let login = vec![
            "login".into(),
            "--username".into(),
            "AWS".into(),
            "--password-stdin".into(),
            registry.clone(),
        ];
        run(id, program, &login, Some(password)).await?;
    }
    push.push(reference.clone());
    on_wait(format!("pushing {reference}"));
    run(id, program, &push, None).await?;
    Ok(Output {
        aws_id: reference.clone(),
        arn: None,
        url: Some(reference),
    })
}

/// The SDK's own base64 (ECR tokens are `base64("AWS:<password>")`).
fn base64_decode(text: &str) -> Option<String> {
    let bytes = aws_smithy_types::base64::decode(text.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_ecr_tokens() {
        assert_eq!(
            base64_decode("QVdTOnNlY3JldA==").as_deref(),
            Some("AWS:secret")
        );
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn build_arguments_follow_each_builder() {
        let args = Builder::Buildah.build_args("r:t", Path::new("Dockerfile"), Path::new("."));
        assert_eq!(args, ["bud", "-t", "r:t", "-f", "Dockerfile", "."]);
        assert_eq!(
            Builder::Podman.build_args("r:t", Path::new("D"), Path::new("c"))[0],
            "build"
        );
    }

    #[test]
    fn the_tag_follows_the_commit_and_uncommitted_content() {
        let dir = std::env::temp_dir().join(format!("stackctl-tag-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let git = |args: &[&str]| {
            assert!(
                std::process::Command::new("git")
                    .arg("-C")
                    .arg(&dir)
                    .args(args)
                    .output()
                    .unwrap()
                    .status
                    .success(),
                "{args:?}"
            );
        };
        let commit = |more: &[&str]| {
            let who = ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q"];
            git(&[&who[..], more].concat());
        };
        git(&["init", "-q"]);
        commit(&["--allow-empty", "-m", "x"]);
        std::fs::write(dir.join("f"), "1").unwrap();
        git(&["add", "f"]);
        commit(&["-m", "f"]);
        let clean = content_tag(&dir).unwrap();
        assert_eq!(clean.len(), 12);
        assert_eq!(content_tag(&dir).unwrap(), clean, "stable");
        std::fs::write(dir.join("f"), "2").unwrap();
        let dirty = content_tag(&dir).unwrap();
        assert_ne!(dirty, clean, "uncommitted changes give another tag");
        std::fs::write(dir.join("f"), "1").unwrap();
        assert_eq!(
            content_tag(&dir).unwrap(),
            clean,
            "the same content, the same tag"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    mod calls {
        use aws_sdk_ecr::operation::describe_images::{DescribeImagesError, DescribeImagesOutput};
        use aws_sdk_ecr::types::ImageDetail;
        use aws_smithy_mocks::mock;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        use super::*;
        use crate::resources::testing::{self, fails};

        fn image() -> Image {
            Image {
                repository: ResourceId::REPOSITORY,
                repository_name: "s".into(),
                tag: "0123abcd".into(),
                context: ".".into(),
                dockerfile: "Dockerfile".into(),
            }
        }

        async fn observe(ctx: &Context) -> Result<Vec<Found<()>>> {
            let image = image();
            let wanted = [Wanted {
                id: &ResourceId::IMAGE,
                spec: &image,
            }];
            Image::observe(&Scope::new(ctx), &wanted).await
        }

        #[tokio::test]
        async fn a_tag_already_in_the_repository_is_found_by_its_content() {
            let describe = mock!(aws_sdk_ecr::Client::describe_images)
                .match_requests(|r| {
                    r.repository_name() == Some("s")
                        && r.image_ids()[0].image_tag() == Some("0123abcd")
                })
                .then_output(|| {
                    let detail = ImageDetail::builder().registry_id("123456789012").build();
                    DescribeImagesOutput::builder()
                        .image_details(detail)
                        .build()
                });
            let found = observe(&testing::ecr(&[&describe])).await.unwrap();
            assert_eq!(
                found[0].aws_id,
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/s:0123abcd"
            );
            assert_eq!(
                Image::output(&found[0]).url.as_deref(),
                Some(found[0].aws_id.as_str())
            );
        }

        #[tokio::test]
        async fn a_missing_tag_or_repository_is_built_and_other_errors_stop() {
            for code in ["ImageNotFoundException", "RepositoryNotFoundException"] {
                let missing = fails!(aws_sdk_ecr, describe_images, DescribeImagesError, code);
                let found = observe(&testing::ecr(&[&missing])).await.unwrap();
                assert!(found.is_empty(), "{code}: {found:?}");
            }
            let denied = fails!(
                aws_sdk_ecr,
                describe_images,
                DescribeImagesError,
                "AccessDeniedException"
            );
            let err = observe(&testing::ecr(&[&denied])).await.unwrap_err();
            assert_eq!(err.code(), Some("AccessDeniedException"));
        }

        /// A registry on loopback answering one request with `status`; the request line back.
        async fn registry(status: &'static str) -> (String, tokio::task::JoinHandle<String>) {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap().to_string();
            let serve = tokio::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = vec![0; 4096];
                let n = stream.read(&mut request).await.unwrap();
                let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
                stream.write_all(answer.as_bytes()).await.unwrap();
                let request = String::from_utf8_lossy(&request[..n]).into_owned();
                request.lines().next().unwrap_or_default().to_owned()
            });
            (address, serve)
        }

        #[tokio::test]
        async fn another_registry_is_asked_for_the_tag_s_manifest() {
            for (status, pushed) in [("200 OK", true), ("404 Not Found", false)] {
                let (address, serve) = registry(status).await;
                let mut ctx = testing::context();
                ctx.settings.registry = Some(address.clone());
                let found = observe(&ctx).await.unwrap();
                assert_eq!(
                    serve.await.unwrap(),
                    "HEAD /v2/s/manifests/0123abcd HTTP/1.1"
                );
                let want = pushed.then(|| format!("{address}/s:0123abcd"));
                assert_eq!(found.first().map(|f| f.aws_id.clone()), want, "{status}");
            }
        }

        #[tokio::test]
        async fn a_failing_build_step_says_what_failed_with_the_end_of_its_output() {
            let script = "echo step 1; echo 'no such file: Dockerfile' >&2; exit 3";
            let args = ["-c".to_owned(), script.to_owned()];
            let err = run(&ResourceId::IMAGE, "sh", &args, None)
                .await
                .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("`sh -c` failed") && text.contains("no such file: Dockerfile"),
                "{text}"
            );
            let err = run(&ResourceId::IMAGE, "/no/such/builder", &[], None)
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains("cannot run /no/such/builder"),
                "{err}"
            );
            run(
                &ResourceId::IMAGE,
                "sh",
                &["-c".into(), "read x; test \"$x\" = pw".into()],
                Some("pw\n".into()),
            )
            .await
            .unwrap();
        }
    }
}
