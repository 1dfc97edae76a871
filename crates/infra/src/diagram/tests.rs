//! The diagram of the default stack with a service: layers, arrows, the path, three formats.

use std::path::Path;

use super::*;
use crate::stack_file::StackSpec;

fn diagram(critical: &[&str]) -> Diagram {
    let spec = StackSpec::parse(
        Path::new("stack.toml"),
        "[stack]\nname = \"shop\"\n[queue]\n[service]\nimage = \"registry.example/app:1\"\n",
    )
    .unwrap();
    let zones = ["us-east-1a".to_owned(), "us-east-1b".to_owned()];
    let desired = crate::desired::desired(&spec, &zones);
    let critical: Vec<String> = critical.iter().map(|s| (*s).to_owned()).collect();
    Diagram::new("shop", &desired, &critical, Some(154.0))
}

#[test]
fn resources_sit_in_their_layers_and_the_path_reads_ready_steps_as_their_resource() {
    let d = diagram(&[
        "vpc",
        "load-balancer",
        "load-balancer ready",
        "service",
        "service ready",
    ]);
    assert_eq!(d.critical, ["vpc", "load-balancer", "service"]);
    let layer = |id: &str| d.nodes.iter().find(|n| n.id == id).unwrap().layer;
    assert_eq!(layer("vpc"), Layer::Network);
    assert_eq!(layer("queue"), Layer::Data);
    assert_eq!(layer("load-balancer"), Layer::Edge);
    assert_eq!(layer("service"), Layer::Compute);
    assert!(d.edges().contains(&("vpc", "public-subnet-1")));
    assert!(!d.critical_edge("vpc", "public-subnet-1"));
    assert!(d.on_path("service") && !d.on_path("queue"));
}

#[test]
fn mermaid_and_dot_name_every_resource_and_mark_the_path() {
    let d = diagram(&["vpc", "alb-security-group", "load-balancer"]);
    let mermaid = d.mermaid();
    assert!(mermaid.contains("flowchart LR") && mermaid.contains("subgraph Network"));
    assert!(mermaid.contains("shop: "), "{mermaid}");
    assert_eq!(mermaid.matches(" --> ").count(), d.edges().len());
    assert!(
        mermaid.contains("class ") && mermaid.contains("linkStyle "),
        "{mermaid}"
    );
    let dot = d.dot();
    assert!(dot.starts_with("digraph stack {") && dot.trim_end().ends_with('}'));
    assert!(
        dot.contains("\"vpc\" -> \"alb-security-group\" [color=\"#e8701a\", penwidth=3];"),
        "{dot}"
    );
    assert_eq!(dot.matches(" -> ").count(), d.edges().len());
    for node in &d.nodes {
        assert!(
            dot.contains(&format!("\"{}\" [label=", node.id)),
            "{}",
            node.id
        );
    }
}

#[test]
fn the_svg_has_a_box_per_resource_an_arrow_per_dependency_and_the_path_in_orange() {
    let d = diagram(&["vpc", "alb-security-group", "load-balancer"]);
    let svg = d.svg();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches(r#" rx="6""#).count(), d.nodes.len());
    assert_eq!(svg.matches(r#"fill="none""#).count(), d.edges().len());
    assert_eq!(svg.matches(r#"marker-end="url(#hot)""#).count(), 2);
    assert!(
        svg.contains(">Monitoring</text>") && svg.contains("critical path 154 s"),
        "{svg}"
    );
}
