//! The network interfaces a deleted load balancer or service leaves behind, as
//! `DescribeNetworkInterfaces` shows them while the model holds them: one `in-use` interface in
//! each security group the call asks about (the emulator makes none of its own). The model
//! refuses the network's deletes with `DependencyViolation` for the same time, so a caller that
//! watches the interfaces and one that retries its delete see one truth.

use crate::call::Call;

/// The groups a `DescribeNetworkInterfaces` call filters on (`group-id` values).
fn groups_asked(call: &Call) -> Vec<&str> {
    let filters: Vec<&str> = call
        .form
        .iter()
        .filter(|(k, v)| k.starts_with("Filter.") && k.ends_with(".Name") && v == "group-id")
        .map(|(k, _)| k.trim_end_matches("Name"))
        .collect();
    call.form
        .iter()
        .filter(|(k, _)| {
            filters
                .iter()
                .any(|f| k.strip_prefix(f).is_some_and(|v| v.starts_with("Value.")))
        })
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The emulator's answer with an interface still held in each group asked about.
pub fn held(call: &Call, body: &str) -> Option<String> {
    let items: String = groups_asked(call)
        .iter()
        .enumerate()
        .map(|(i, group)| {
            format!(
                "<item><networkInterfaceId>eni-awsfront{i:08x}</networkInterfaceId>\
                 <status>in-use</status><interfaceType>interface</interfaceType>\
                 <description>released by the model</description>\
                 <groupSet><item><groupId>{group}</groupId><groupName>{group}</groupName></item></groupSet></item>"
            )
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    let set = format!("<networkInterfaceSet>{items}</networkInterfaceSet>");
    if body.contains("<networkInterfaceSet/>") {
        return Some(body.replacen("<networkInterfaceSet/>", &set, 1));
    }
    let open = "<networkInterfaceSet>";
    let at = body.find(open)? + open.len();
    Some(format!("{}{items}{}", &body[..at], &body[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(form: &[(&str, &str)]) -> Call {
        Call {
            service: "ec2".into(),
            operation: "DescribeNetworkInterfaces".into(),
            protocol: crate::call::Protocol::Ec2,
            form: form
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            json: None,
        }
    }

    const EMPTY: &str = "<DescribeNetworkInterfacesResponse><networkInterfaceSet/><requestId>r</requestId></DescribeNetworkInterfacesResponse>";

    #[test]
    fn each_group_asked_about_has_an_interface_in_use() {
        let asked = call(&[
            ("Action", "DescribeNetworkInterfaces"),
            ("Filter.1.Name", "vpc-id"),
            ("Filter.1.Value.1", "vpc-1"),
            ("Filter.2.Name", "group-id"),
            ("Filter.2.Value.1", "sg-a"),
            ("Filter.2.Value.2", "sg-b"),
        ]);
        let body = held(&asked, EMPTY).unwrap();
        assert_eq!(body.matches("<status>in-use</status>").count(), 2, "{body}");
        assert!(
            body.contains("<groupId>sg-a</groupId>") && body.contains("<groupId>sg-b</groupId>")
        );
        assert!(!body.contains("vpc-1"));
        assert!(body.ends_with("<requestId>r</requestId></DescribeNetworkInterfacesResponse>"));
    }

    #[test]
    fn a_call_asking_about_no_group_is_left_as_the_emulator_answered() {
        let asked = call(&[("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", "vpc-1")]);
        assert_eq!(held(&asked, EMPTY), None);
    }
}
