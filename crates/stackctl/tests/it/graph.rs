//! `stackctl graph`: the stack file as a picture, with no AWS call.

use crate::helpers::{Scratch, stackctl, stderr, stdout};

fn graph(scratch: &Scratch, args: &[&str]) -> std::process::Output {
    stackctl()
        .arg("graph")
        .args(args)
        .current_dir(scratch.path())
        .output()
        .unwrap()
}

#[test]
fn the_stack_is_drawn_in_three_formats_with_the_critical_path_marked() {
    let scratch = Scratch::new();
    scratch.write(
        "stack.toml",
        "[stack]\nname = \"shop\"\n[queue]\n[service]\nimage = \"registry.example/app:1\"\n",
    );
    let mermaid = graph(&scratch, &[]);
    assert!(mermaid.status.success(), "{}", stderr(&mermaid));
    let text = stdout(&mermaid);
    assert!(
        text.contains("flowchart LR") && text.contains("subgraph Edge"),
        "{text}"
    );
    assert!(text.contains("up's critical path"), "{text}");
    assert!(
        text.contains("linkStyle "),
        "the path's arrows are styled: {text}"
    );

    let dot = graph(&scratch, &["--format", "dot"]);
    assert!(
        stdout(&dot).starts_with("digraph stack {"),
        "{}",
        stdout(&dot)
    );

    let svg = graph(&scratch, &["--format", "svg", "-o", "stack.svg"]);
    assert!(svg.status.success(), "{}", stderr(&svg));
    assert!(
        stderr(&svg).contains("Wrote the graph of stack shop"),
        "{}",
        stderr(&svg)
    );
    assert!(
        stderr(&svg).contains("load-balancer"),
        "the path names the load balancer: {}",
        stderr(&svg)
    );
    let picture = std::fs::read_to_string(scratch.path().join("stack.svg")).unwrap();
    assert!(
        picture.starts_with("<svg ") && picture.contains(">service</text>"),
        "{picture}"
    );
}

#[test]
fn an_invalid_file_is_named_with_its_line_and_column_and_nothing_is_drawn() {
    let scratch = Scratch::new();
    scratch.write(
        "stack.toml",
        "[stack]\nname = \"shop\"\n[service]\nport = \"http\"\n",
    );
    let output = graph(&scratch, &["--format", "svg", "-o", "stack.svg"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("stack.toml:4:"),
        "{}",
        stderr(&output)
    );
    assert!(!scratch.path().join("stack.svg").exists());
}
