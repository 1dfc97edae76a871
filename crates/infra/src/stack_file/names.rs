//! The AWS names derived from the stack name, and the rules each service puts on them.

/// The queue the one-queue `[queue]` table declares: `[queues.messages]` is the same queue.
pub const SINGLE_QUEUE: &str = "messages";
/// The service the one-service `[service]` table declares: `[services.app]` is the same one.
pub const SINGLE_SERVICE: &str = "app";

/// How names in the file become names in AWS and DNS: lowercase, `-` for `_`.
pub(super) fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Every AWS name a stack uses. One place, so validation and the resources agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub stack: String,
    pub queue: String,
    pub dead_letter_queue: String,
    pub repository: String,
    pub execution_role: String,
    pub task_role: String,
    pub log_group: String,
    pub load_balancer: String,
    pub target_group: String,
    pub cluster: String,
    pub service: String,
    pub task_family: String,
}

impl Names {
    pub fn new(stack: &str) -> Self {
        Self {
            stack: stack.to_owned(),
            queue: format!("{stack}-messages"),
            dead_letter_queue: format!("{stack}-messages-dlq"),
            repository: stack.to_owned(),
            execution_role: format!("{stack}-task-execution"),
            task_role: format!("{stack}-task"),
            log_group: format!("/stackctl/{stack}"),
            load_balancer: format!("{stack}-alb"),
            target_group: format!("{stack}-tg"),
            cluster: stack.to_owned(),
            service: stack.to_owned(),
            task_family: stack.to_owned(),
        }
    }

    /// The AWS names of one service's resources; the one-service table's service (`app`)
    /// keeps the names stacks had before there were several.
    pub fn service(&self, name: &str) -> ServiceNames {
        let stack = &self.stack;
        let single = name == SINGLE_SERVICE;
        let pick = |legacy: &str, named: String| if single { legacy.to_owned() } else { named };
        ServiceNames {
            service: pick(&self.service, format!("{stack}-{name}")),
            task_family: pick(&self.task_family, format!("{stack}-{name}")),
            target_group: pick(&self.target_group, format!("{stack}-{name}")),
            task_role: pick(&self.task_role, format!("{stack}-{name}-task")),
            execution_role: format!("{stack}-{name}-exec"),
            security_group: pick(&format!("{stack}-service"), format!("{stack}-{name}-tasks")),
        }
    }

    /// The names of a queue and its dead-letter queue.
    pub fn queue(&self, name: &str) -> (String, String) {
        let queue = format!("{}-{name}", self.stack);
        let dead_letters = format!("{queue}-dlq");
        (queue, dead_letters)
    }

    /// The name of a bucket (global across AWS).
    pub fn bucket(&self, name: &str) -> String {
        format!("{}-{name}", self.stack)
    }

    /// `Name` tag of an EC2 resource, as the console shows it.
    pub fn ec2(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.stack)
    }
}

/// The AWS names of one service's resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceNames {
    pub service: String,
    pub task_family: String,
    pub target_group: String,
    pub task_role: String,
    pub execution_role: String,
    pub security_group: String,
}

/// User tags per resource: AWS allows 50, stackctl uses `stackctl:stack`, `stackctl:id`
/// and `Name`.
pub(crate) const MAX_USER_TAGS: usize = 40;

/// Problems with a user tag, by the rules every tagged service here accepts.
pub(crate) fn check_tag(key: &str, value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let allowed = |c: char| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c);
    if key.is_empty() || key.chars().count() > 128 {
        problems.push("a tag key must have 1 to 128 characters".into());
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        problems.push("tag keys starting with \"aws:\" are reserved by AWS".into());
    }
    if key.starts_with("stackctl:") || key == crate::tags::NAME_TAG {
        problems.push(format!("{key:?} is set by stackctl itself"));
    }
    if value.chars().count() > 256 {
        problems.push("a tag value may have at most 256 characters".into());
    }
    if let Some(c) = key.chars().chain(value.chars()).find(|c| !allowed(*c)) {
        problems.push(format!(
            "{c:?} is not allowed in tags; use letters, digits, spaces and _ . : / = + - @"
        ));
    }
    problems
}

/// Problems with a stack name, each naming the AWS rule it breaks.
pub(crate) fn check_stack_name(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let charset_ok = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !charset_ok {
        problems.push(format!(
            "{name:?} is not allowed: use lowercase letters, digits and single hyphens, starting \
             with a letter and not ending with a hyphen (ECR repository names are lowercase; \
             load balancer names allow only letters, digits and hyphens)"
        ));
        return problems;
    }
    let names = Names::new(name);
    let limits: [(&str, &str, usize); 6] = [
        ("SQS queue", &names.dead_letter_queue, 80),
        ("IAM role", &names.execution_role, 64),
        ("load balancer", &names.load_balancer, 32),
        ("target group", &names.target_group, 32),
        ("ECR repository", &names.repository, 256),
        ("ECS cluster", &names.cluster, 255),
    ];
    for (what, derived, max) in limits {
        if derived.len() > max {
            problems.push(format!(
                "{name:?} is too long: it makes the {what} name {derived:?} ({} characters), and \
                 AWS allows at most {max}; use at most {} characters",
                derived.len(),
                name.len() - (derived.len() - max)
            ));
        }
    }
    if name.len() < 2 {
        problems.push(format!(
            "{name:?} is too short: ECR repository names need at least 2 characters"
        ));
    }
    problems
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-4` ...
pub(crate) fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let letters = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase());
    let (head, tail) = match parts.as_slice() {
        [area, "gov", direction, number] => ([*area, *direction], *number),
        [area, direction, number] => ([*area, *direction], *number),
        _ => return false,
    };
    head[0].len() == 2
        && head.iter().all(|p| letters(p))
        && !tail.is_empty()
        && tail.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        assert!(check_stack_name("messages").is_empty());
        assert!(check_stack_name("team-a-prod2").is_empty());
    }

    #[test]
    fn rejects_characters_aws_refuses() {
        for bad in ["", "Messages", "9lives", "a_b", "a--b", "a-", "a.b", "ünï"] {
            assert_eq!(check_stack_name(bad).len(), 1, "{bad:?}");
        }
    }

    #[test]
    fn the_load_balancer_limit_bounds_the_name_at_28() {
        assert!(check_stack_name(&"a".repeat(28)).is_empty());
        let problems = check_stack_name(&"a".repeat(29));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("load balancer") && p.contains("at most 28")),
            "{problems:?}"
        );
    }

    #[test]
    fn knows_region_shapes() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(is_region(good), "{good}");
        }
        for bad in ["us-east", "useast1", "US-EAST-1", "us-east-1a", "mars"] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
