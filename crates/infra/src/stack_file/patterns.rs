//! What a load balancer rule and a secret reference accept: path patterns, host names,
//! Secrets Manager and SSM parameter ARNs; and when one rule's conditions take every request
//! another's would (a rule it shadows).

use super::model::Route;

/// A load balancer rule matches at most five values across its conditions.
pub(crate) const MAX_CONDITION_VALUES: usize = 5;
/// A listener has at most 100 rules besides its default action.
pub(crate) const MAX_RULES: usize = 100;
const PATTERN_MAX: usize = 128;

/// An ALB path pattern: `/api/*`, `/img/?.png`; case-sensitive, 128 characters at most.
pub(crate) fn check_path_pattern(path: &str) -> Option<String> {
    let shown = super::reader::shown(path);
    if !path.starts_with('/') {
        return Some(format!("{shown:?} must start with /, like \"/api/*\""));
    }
    if path.chars().count() > PATTERN_MAX {
        return Some(format!(
            "is longer than the {PATTERN_MAX} characters a rule takes"
        ));
    }
    path.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-.$/~\"'@:+&*?".contains(*c)))
        .map(|bad| {
            format!(
                "{shown:?} has {bad:?}; a path pattern has letters, digits, _ - . $ / ~ \" ' @ : + & \
                 and the wildcards * and ?"
            )
        })
}

/// A host header pattern: `api.example.com`, `*.example.com`.
pub(crate) fn check_host(host: &str) -> Option<String> {
    let shown = super::reader::shown(host);
    let charset = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-.*?".contains(c));
    let ok = charset && host.contains('.') && host.len() <= PATTERN_MAX && !host.starts_with('.');
    (!ok).then(|| {
        format!(
            "{shown:?} is not a host name like \"api.example.com\" or \"*.example.com\" (letters, \
             digits, - . and the wildcards * and ?, at most {PATTERN_MAX} characters)"
        )
    })
}

/// A secret the task reads at start: a Secrets Manager secret or an SSM parameter, by ARN.
pub(crate) fn check_secret_arn(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = match parts.as_slice() {
        ["arn", partition, service, region, account, resource] => {
            let resource_ok = match *service {
                "secretsmanager" => resource
                    .strip_prefix("secret:")
                    .is_some_and(|n| !n.is_empty()),
                "ssm" => resource
                    .strip_prefix("parameter/")
                    .is_some_and(|n| !n.is_empty()),
                _ => false,
            };
            partition.starts_with("aws")
                && super::names::is_region(region)
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource_ok
        }
        _ => false,
    };
    (!ok).then(|| {
        format!(
            "{:?} is not a secret ARN; expected a Secrets Manager secret \
             (\"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf\") or an \
             SSM parameter (\"arn:aws:ssm:us-east-1:123456789012:parameter/db/password\")",
            super::reader::shown(arn)
        )
    })
}

/// True when every value `inner` matches, `outer` matches too: the same pattern, or `outer`
/// is a prefix ending in `*` with no other wildcard. Unsure cases are not covered.
fn covers(outer: &str, inner: &str) -> bool {
    if outer == inner {
        return true;
    }
    match outer.strip_suffix('*') {
        Some(prefix) if !prefix.contains(['*', '?']) => inner.starts_with(prefix),
        _ => false,
    }
}

/// True when `first` (tried before `second`) takes every request `second` would match.
pub(crate) fn shadows(first: &Route, second: &Route) -> bool {
    let all = |outer: &[String], inner: &[String]| {
        outer.is_empty()
            || (!inner.is_empty() && inner.iter().all(|i| outer.iter().any(|o| covers(o, i))))
    };
    all(&first.paths, &second.paths) && all(&first.hosts, &second.hosts)
}

/// The order rules are tried in: host and path together first, then the longest path
/// pattern, then by service name. A more specific rule is tried before a broader one.
pub fn rule_order<'a>(
    route: &Route,
    name: &'a str,
) -> (std::cmp::Reverse<(usize, usize)>, &'a str) {
    let kinds = usize::from(!route.paths.is_empty()) + usize::from(!route.hosts.is_empty());
    let longest = route.paths.iter().map(String::len).max().unwrap_or(0);
    (std::cmp::Reverse((kinds, longest)), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(paths: &[&str], hosts: &[&str]) -> Route {
        Route {
            paths: paths.iter().map(|s| (*s).to_owned()).collect(),
            hosts: hosts.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn path_patterns_and_hosts_are_checked() {
        assert!(check_path_pattern("/api/*").is_none());
        assert!(check_path_pattern("api").is_some());
        assert!(check_path_pattern("/a b").is_some());
        assert!(check_host("*.example.com").is_none());
        assert!(check_host("localhost").is_some());
        assert!(check_host("a_b.com").is_some());
    }

    #[test]
    fn secrets_are_secrets_manager_or_ssm_arns() {
        assert!(
            check_secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC")
                .is_none()
        );
        assert!(check_secret_arn("arn:aws:ssm:eu-west-1:123456789012:parameter/db/pw").is_none());
        for bad in [
            "hunter2",
            "arn:aws:s3:::bucket",
            "arn:aws:ssm:us-east-1:1:parameter/x",
        ] {
            assert!(check_secret_arn(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_broader_prefix_tried_first_shadows_a_narrower_one() {
        let api = route(&["/api/*"], &[]);
        let v1 = route(&["/api/v1/*"], &[]);
        assert!(shadows(&api, &v1));
        assert!(!shadows(&v1, &api));
        assert!(shadows(&api, &api));
        // A host narrows it: /api/* on one host leaves /api/v1/* of other hosts.
        assert!(!shadows(&route(&["/api/*"], &["a.example.com"]), &v1));
        assert!(shadows(
            &route(&[], &["a.example.com"]),
            &route(&["/x"], &["a.example.com"])
        ));
        // Wildcards inside a pattern are not guessed at.
        assert!(!shadows(&route(&["/a*b*"], &[]), &route(&["/a1b2"], &[])));
    }

    #[test]
    fn specific_rules_go_first() {
        let mut routes = [
            route(&["/a/*"], &[]),
            route(&["/a/b/*"], &[]),
            route(&["/*"], &["x.io"]),
        ];
        routes.sort_by_key(|r| rule_order(r, ""));
        assert_eq!(routes[0].hosts, ["x.io"]);
        assert_eq!(routes[1].paths, ["/a/b/*"]);
    }
}
