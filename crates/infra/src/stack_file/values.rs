//! What AWS accepts in the service's strings, checked before any call so that a bad value
//! fails `validate` and not `RegisterTaskDefinition` after most of the stack exists: image
//! references, the certificate ARN, the health-check path, the container's environment and
//! the Dockerfile path. Each check returns what is wrong, or nothing.

use std::str::FromStr;

/// ECS takes at most 255 characters for a container's image.
const IMAGE_MAX: usize = 255;
/// ALB health-check paths: 1 to 1024 characters.
const HEALTH_CHECK_PATH_MAX: usize = 1024;
/// A task definition is at most 64 KiB of JSON; the environment gets at most half of it.
pub(crate) const ENVIRONMENT_MAX_BYTES: usize = 32 * 1024;

/// An image reference as ECS and registries take it: `[registry[:port]/]repository[:tag]
/// [@digest]`, the repository in lowercase, at most 255 characters.
pub fn check_image(image: &str) -> Option<String> {
    let like = "like \"123456789012.dkr.ecr.us-east-1.amazonaws.com/messages:1.0\" or \
                \"public.ecr.aws/nginx/nginx:1.27\"";
    let chars = image.chars().count();
    if chars > IMAGE_MAX {
        return Some(format!(
            "is {chars} characters long; ECS takes image references of at most {IMAGE_MAX}"
        ));
    }
    let shown = super::reader::shown(image);
    if let Some(bad) = image
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:/@#".contains(*c)))
    {
        return Some(format!(
            "{shown:?} has {bad:?}, which no image reference can have: letters, digits and \
             - _ . : / @ only, {like}"
        ));
    }
    if let Err(err) = oci_spec::distribution::Reference::from_str(image) {
        return Some(format!(
            "{shown:?} is not an image reference ({err}): expected \
             [registry/]repository[:tag][@sha256:digest] with the repository in lowercase, {like}"
        ));
    }
    None
}

/// An ACM certificate (or IAM server certificate) ARN, as an HTTPS listener takes it.
pub(crate) fn check_certificate_arn(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = match parts.as_slice() {
        ["arn", partition, "acm", region, account, resource] => {
            partition.starts_with("aws")
                && super::names::is_region(region)
                && is_account(account)
                && resource.strip_prefix("certificate/").is_some_and(|id| {
                    !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
                })
        }
        ["arn", partition, "iam", "", account, resource] => {
            partition.starts_with("aws")
                && is_account(account)
                && resource.starts_with("server-certificate/")
        }
        _ => false,
    };
    (!ok).then(|| {
        format!(
            "{:?} is not a certificate ARN like \
             \"arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-…\"",
            super::reader::shown(arn)
        )
    })
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// A load balancer health-check path: starts with `/`, visible ASCII, 1024 characters at most.
pub(crate) fn check_health_check_path(path: &str) -> Option<String> {
    let shown = super::reader::shown(path);
    if !path.starts_with('/') {
        return Some(format!("{shown:?} must start with /"));
    }
    if path.len() > HEALTH_CHECK_PATH_MAX {
        return Some(format!(
            "is {} characters long; a load balancer takes at most {HEALTH_CHECK_PATH_MAX}",
            path.chars().count()
        ));
    }
    path.chars().find(|c| !c.is_ascii_graphic()).map(|bad| {
        format!("{shown:?} has {bad:?}: a health-check path is visible ASCII, no spaces (encode them as %20)")
    })
}

/// A container environment value: no NUL (a process environment cannot hold one).
pub(crate) fn check_environment_value(value: &str) -> Option<String> {
    value
        .contains('\0')
        .then(|| "has a NUL character, which no process environment can hold".to_owned())
}

/// The Dockerfile's path: a file name, not empty, no NUL.
pub(crate) fn check_dockerfile(path: &str) -> Option<String> {
    if path.trim().is_empty() {
        return Some("is empty: name the Dockerfile, e.g. \"Dockerfile\"".into());
    }
    if path.contains('\0') || path.len() > 4096 {
        return Some(format!(
            "{:?} is not a file path",
            super::reader::shown(path)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_follow_the_oci_grammar() {
        for good in [
            "nginx",
            "registry.example/messages:1",
            "public.ecr.aws/nginx/nginx:1.27",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/messages:1.0",
            "localhost:5000/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(check_image(good), None, "{good}");
        }
        for bad in [
            "\u{0}",
            "public.ecr😀.aws/x/y:1",
            "Upper/Case:1",
            "app:",
            "app:t@g",
            " app",
        ] {
            assert!(check_image(bad).is_some(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_huge_image_reference_is_refused_by_its_length_and_not_echoed() {
        let huge = "a".repeat(1_000_000);
        let message = check_image(&huge).unwrap();
        assert!(message.contains("1000000 characters"), "{message}");
        assert!(message.len() < 200);
    }

    #[test]
    fn certificate_arns_are_acm_or_iam_certificates() {
        assert_eq!(
            check_certificate_arn(
                "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000"
            ),
            None
        );
        assert_eq!(
            check_certificate_arn("arn:aws:iam::123456789012:server-certificate/site"),
            None
        );
        for bad in [
            "arn:aws:acm:eu-west-1:1234:certificate/x",
            "arn:aws:s3:::bucket",
            "certificate/abc",
            "arn:aws:acm:nowhere:123456789012:certificate/0a1b",
        ] {
            assert!(check_certificate_arn(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn health_check_paths_are_visible_ascii() {
        assert_eq!(check_health_check_path("/healthcheck?full=1"), None);
        assert!(check_health_check_path("healthcheck").is_some());
        assert!(check_health_check_path("/health check").is_some());
        assert!(check_health_check_path("/é").is_some());
        assert!(check_health_check_path(&format!("/{}", "a".repeat(1024))).is_some());
    }

    #[test]
    fn environment_values_and_dockerfiles() {
        assert_eq!(check_environment_value("a=b; c"), None);
        assert!(check_environment_value("a\0b").is_some());
        assert_eq!(check_dockerfile("docker/Dockerfile.prod"), None);
        assert!(check_dockerfile("").is_some());
        assert!(check_dockerfile("a\0").is_some());
    }
}
