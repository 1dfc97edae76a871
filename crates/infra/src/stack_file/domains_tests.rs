//! `domain = …`: read, routed, and every kind of bad input with its position.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<StackSpec, SpecErrors> {
    StackSpec::parse(
        Path::new("stack.toml"),
        &format!("[stack]\nname = \"shop\"\n{text}"),
    )
}

fn messages(text: &str) -> Vec<(usize, String, String)> {
    let err = parse(text).expect_err("the file should be rejected");
    err.errors
        .iter()
        .map(|e| (e.line, e.key.clone(), e.message.clone()))
        .collect()
}

#[test]
fn the_one_service_s_domain_is_read_lowercase_and_routes_nothing() {
    let spec = parse("[service]\ndomain = \"API.Example.com\"\n").unwrap();
    let service = spec.default_web().unwrap();
    assert_eq!(service.domain.as_deref(), Some("api.example.com"));
    assert!(service.route.is_default(), "the default takes every name");
}

#[test]
fn a_second_web_service_is_reached_by_its_domain_and_one_routed_by_hosts_also_by_it() {
    let spec = parse(
        r#"
[services.web]
[services.admin]
domain = "admin.example.com"
[services.api]
hosts = ["api.internal.example.com"]
domain = "api.example.com"
"#,
    )
    .unwrap();
    assert_eq!(spec.default_web().unwrap().name, "web");
    let by_name = |n: &str| spec.services.iter().find(|s| s.name == n).unwrap();
    assert_eq!(by_name("admin").route.hosts, ["admin.example.com"]);
    assert_eq!(
        by_name("api").route.hosts,
        ["api.internal.example.com", "api.example.com"]
    );
    assert!(by_name("web").route.hosts.is_empty());
    // The default keeps every other name, its domain included.
    let spec = parse(
        "[services.web]\ndomain = \"example.com\"\n[services.admin]\ndomain = \"admin.example.com\"\nhosts = [\"admin.example.com\"]\n",
    )
    .unwrap();
    assert_eq!(spec.default_web().unwrap().name, "web");
}

#[test]
fn bad_domains_are_named_where_they_are() {
    for bad in [
        "localhost",
        "*.example.com",
        "api.example.com.",
        "-api.example.com",
        "api_1.example.com",
        "https://api.example.com",
        "api..example.com",
        "example.123",
    ] {
        let all = messages(&format!("[service]\ndomain = \"{bad}\"\n"));
        assert_eq!(all.len(), 1, "{bad}: {all:?}");
        let (line, key, message) = &all[0];
        assert_eq!((*line, key.as_str()), (4, "service.domain"), "{bad}");
        assert!(message.contains("is not a domain like"), "{bad}: {message}");
    }
    let long = format!("{}.example.com", "a".repeat(64));
    assert_eq!(
        messages(&format!("[service]\ndomain = \"{long}\"\n")).len(),
        1
    );
}

#[test]
fn a_domain_is_for_web_services_once_each_and_not_beside_a_certificate_arn() {
    let all = messages(
        "[services.worker]\nkind = \"worker\"\nconsumes = [\"jobs\"]\ndomain = \"w.example.com\"\n\
         [queues.jobs]\n[services.web]\n",
    );
    assert!(
        all.iter()
            .any(|(_, k, m)| k == "services.worker.domain" && m.contains("only a web service")),
        "{all:?}"
    );
    let all = messages(
        "[services.a]\ndomain = \"x.example.com\"\n[services.b]\ndomain = \"x.example.com\"\nhosts = [\"b.example.com\"]\n",
    );
    assert!(
        all.iter()
            .any(|(_, _, m)| m.contains("is already the domain of")),
        "{all:?}"
    );
    let all = messages(
        "[service]\ndomain = \"x.example.com\"\n\
         certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000\"\n",
    );
    assert!(
        all.iter()
            .any(|(_, k, m)| k == "service.certificate_arn" && m.contains("own certificate")),
        "{all:?}"
    );
}

#[test]
fn two_services_routed_only_by_their_domains_need_a_third_or_hosts() {
    let all = messages(
        "[services.a]\ndomain = \"a.example.com\"\n[services.b]\ndomain = \"b.example.com\"\n",
    );
    assert!(
        all.iter()
            .any(|(_, _, m)| m.contains("a domain alone routes a service only beside one")),
        "{all:?}"
    );
}

#[test]
fn at_most_ten_domains() {
    let mut text = String::from("[services.web]\n");
    for i in 0..11 {
        text.push_str(&format!("[services.s{i}]\ndomain = \"s{i}.example.com\"\n"));
    }
    let all = messages(&text);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].2.contains("at most 10 domains"), "{all:?}");
}
