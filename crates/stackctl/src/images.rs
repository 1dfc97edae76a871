//! Which image each service deploys: `image` in the stack file, `--image`, or its Dockerfile
//! (built, tagged by content, pushed to the stack's registry); a running service given none
//! keeps the image it runs; one that does not run yet and has none stops the run before any
//! change.

use std::path::Path;

use anyhow::Context as _;
use infra::StackSpec;

use crate::session::Naming;

/// Decides where each service's image comes from: `--image` (for every service without an
/// image of its own) or `image` as is; else its Dockerfile, relative to the stack file, built
/// with a tag derived from its build context; else no image (and so the service is not
/// deployed yet).
pub fn choose_image(
    spec: &mut StackSpec,
    stack_file: &Path,
    image: Option<&String>,
) -> anyhow::Result<()> {
    if let Some(problem) = image.and_then(|i| infra::stack_file::check_image(i)) {
        anyhow::bail!("--image {problem}");
    }
    let base = match stack_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    for service in &mut spec.services {
        if service.image.is_none() {
            service.image = image.cloned();
        }
        if service.image.is_some() {
            continue;
        }
        let dockerfile = base.join(&service.dockerfile);
        if !dockerfile.is_file() {
            continue;
        }
        let context = base.join(&service.context);
        let tag = infra::resources::image::content_tag(&context).with_context(|| {
            format!(
                "while reading the build context of service {}",
                service.name
            )
        })?;
        service.build = Some(infra::stack_file::Build {
            context,
            dockerfile,
            tag,
        });
    }
    Ok(())
}

/// What the plan says of the services the run gives no image: each running one keeps its
/// image; with `--infra-only`, the ones not deployed yet.
pub fn image_notes(prepared: &infra::engine::Prepared, infra_only: bool) -> Vec<String> {
    let mut notes: Vec<String> = prepared
        .unimaged
        .kept
        .iter()
        .map(|k| {
            format!(
                "service {} keeps the image it runs, {} (no image in the stack file, no --image, \
                 no Dockerfile)",
                k.service, k.image
            )
        })
        .collect();
    if infra_only && !prepared.unimaged.missing.is_empty() {
        notes.push(format!(
            "not deployed (--infra-only; no image yet): {}",
            prepared.unimaged.missing.join(", ")
        ));
    }
    notes
}

/// Refuses, before any change, a plan that leaves a declared service undeployed because it has
/// no image and does not run yet, naming the three ways to give it one; `--infra-only` asks
/// for exactly that plan.
pub fn require_images(
    spec: &StackSpec,
    stack_file: &Path,
    prepared: &infra::engine::Prepared,
    infra_only: bool,
) -> anyhow::Result<()> {
    let missing = &prepared.unimaged.missing;
    if infra_only || missing.is_empty() {
        return Ok(());
    }
    let base = match stack_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let dockerfiles: Vec<String> = spec
        .services
        .iter()
        .filter(|s| missing.contains(&s.name))
        .map(|s| base.join(&s.dockerfile).display().to_string())
        .collect();
    let (who, verb, them) = match missing.as_slice() {
        [one] => (format!("service {one} has"), "does", "it one"),
        many => (
            format!("services {} have", many.join(", ")),
            "do",
            "each one",
        ),
    };
    anyhow::bail!(
        "{who} no image and {verb} not run yet, so there is nothing to deploy. Give {them}:\n  \
         - image = \"REPOSITORY:TAG\" in its table of {file}, or\n  \
         - --image REPOSITORY:TAG on the command line, or\n  \
         - a Dockerfile at {dockerfiles} for stackctl to build and push to the stack's registry.\n\
         To make the rest of the stack first (network, queues, the registry to push to), run \
         `{infra_only}`.",
        file = stack_file.display(),
        dockerfiles = dockerfiles.join(", "),
        infra_only = Naming::File(stack_file.to_path_buf()).command("up --infra-only"),
    )
}

/// Fails, saying how to get one, when `plan` builds an image and no builder is on the machine;
/// `plan` and `up` both ask, so `plan` never shows what `up` cannot do.
pub async fn can_build(plan: &infra::plan::Plan) -> anyhow::Result<()> {
    let builds = plan
        .changes
        .iter()
        .any(|c| c.kind == infra::resources::Kind::Image && c.action() == infra::Action::Create);
    if builds {
        infra::resources::image::Builder::find().await?;
    }
    Ok(())
}

/// What a run deploys, in a line for its history: each service and its image (`built` when
/// stackctl builds it; a kept image is the one the service runs).
pub fn run_version(spec: &StackSpec, prepared: &infra::engine::Prepared) -> String {
    spec.services
        .iter()
        .map(|s| {
            let kept = prepared.unimaged.kept.iter().find(|k| k.service == s.name);
            let image = match (&s.image, &s.build, kept) {
                (Some(image), _, _) => image.clone(),
                (None, Some(_), _) => "built".to_owned(),
                (None, None, Some(kept)) => kept.image.clone(),
                (None, None, None) => "no image".to_owned(),
            };
            format!("{}={image}", s.name)
        })
        .collect::<Vec<_>>()
        .join(" ")
}
