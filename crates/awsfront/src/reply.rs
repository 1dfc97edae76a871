//! Answers the front makes itself, in each protocol's real shape (so the SDK classifies them
//! as it would AWS's), and rewriting the emulator's answers one listed element at a time.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

use crate::call::Protocol;

/// An error answer: `code` and `message`, with the HTTP status AWS uses for it.
pub fn error(
    protocol: Protocol,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response<Full<Bytes>> {
    let request_id = format!("awsfront-{:016x}", fastrand::u64(..));
    let (body, content_type) = match protocol {
        Protocol::Ec2 => (
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
            ),
            "text/xml",
        ),
        Protocol::Query => (
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                if status.is_server_error() {
                    "Receiver"
                } else {
                    "Sender"
                }
            ),
            "text/xml",
        ),
        Protocol::Json => (
            serde_json::json!({ "__type": code, "message": message }).to_string(),
            "application/x-amz-json-1.1",
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        hyper::header::HeaderValue::from_static(content_type),
    );
    if let Ok(value) = code.parse() {
        headers.insert("x-amzn-errortype", value);
    }
    if let Ok(value) = request_id.parse() {
        headers.insert("x-amzn-requestid", value);
    }
    response
}

/// A status with its reason phrase as a plain-text body, as a load balancer or proxy in front
/// of an endpoint answers (not in any AWS protocol's shape).
pub fn plain(status: StatusCode) -> Response<Full<Bytes>> {
    let text = status.canonical_reason().unwrap_or("Error").to_owned();
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}

/// Access denied, as each protocol says it, naming the action as IAM does.
pub fn denied(call: &crate::call::Call) -> Response<Full<Bytes>> {
    let action = format!("{}:{}", call.service, call.operation);
    let message = format!(
        "User: arn:aws:iam::123456789012:user/awsfront is not authorized to perform: {action}"
    );
    let code = match call.protocol {
        Protocol::Ec2 => "UnauthorizedOperation",
        Protocol::Query => "AccessDenied",
        Protocol::Json => "AccessDeniedException",
    };
    error(call.protocol, StatusCode::FORBIDDEN, code, &message)
}

/// The throttling answer of each protocol.
pub fn throttled(protocol: Protocol, service: &str) -> Response<Full<Bytes>> {
    match protocol {
        Protocol::Ec2 => error(
            protocol,
            StatusCode::SERVICE_UNAVAILABLE,
            "RequestLimitExceeded",
            "Request limit exceeded.",
        ),
        Protocol::Query => error(
            protocol,
            StatusCode::BAD_REQUEST,
            "Throttling",
            "Rate exceeded",
        ),
        Protocol::Json if service == "dynamodb" => error(
            protocol,
            StatusCode::BAD_REQUEST,
            "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        ),
        Protocol::Json => error(
            protocol,
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
        ),
    }
}

/// Rewrites each element listed directly under `<list>` (as `<member>` or `<item>`) with `f`,
/// which gets one element's text and returns its new text, or `None` to keep it. Elements
/// nested in a listed element (its tags, its zones) are part of that element.
pub fn rewrite_listed(body: &str, list: &str, f: &mut dyn FnMut(&str) -> Option<String>) -> String {
    let open = format!("<{list}>");
    let Some(start) = body.find(&open).map(|i| i + open.len()) else {
        return body.to_owned();
    };
    let close = format!("</{list}>");
    let Some(end) = body[start..].rfind(&close).map(|i| start + i) else {
        return body.to_owned();
    };
    let mut out = String::with_capacity(body.len());
    out.push_str(&body[..start]);
    let inner = &body[start..end];
    let mut rest = inner;
    while let Some((before, element, after)) = next_element(rest) {
        out.push_str(before);
        out.push_str(&f(element).unwrap_or_else(|| element.to_owned()));
        rest = after;
    }
    out.push_str(rest);
    out.push_str(&body[end..]);
    out
}

/// The next `<member>…</member>` or `<item>…</item>` at the top level of `text`, with what
/// comes before and after it.
fn next_element(text: &str) -> Option<(&str, &str, &str)> {
    let start = [text.find("<member>"), text.find("<item>")]
        .into_iter()
        .flatten()
        .min()?;
    let tag = if text[start..].starts_with("<member>") {
        "member"
    } else {
        "item"
    };
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut depth = 0usize;
    let mut at = start;
    loop {
        let next_open = text[at..].find(&open).map(|i| at + i);
        let next_close = text[at..].find(&close).map(|i| at + i)?;
        match next_open {
            Some(o) if o < next_close => {
                depth += 1;
                at = o + open.len();
            }
            _ => {
                depth -= 1;
                at = next_close + close.len();
                if depth == 0 {
                    return Some((&text[..start], &text[start..at], &text[at..]));
                }
            }
        }
    }
}

/// The text of the first `<tag>…</tag>` in `element`.
pub fn text_of<'a>(element: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = element.find(&open)? + open.len();
    let end = element[start..].find(&format!("</{tag}>"))? + start;
    Some(&element[start..end])
}

/// `element` with the text of its first `<tag>` set to `value`.
pub fn with_text(element: &str, tag: &str, value: &str) -> String {
    let open = format!("<{tag}>");
    let Some(start) = element.find(&open).map(|i| i + open.len()) else {
        return element.to_owned();
    };
    let Some(end) = element[start..]
        .find(&format!("</{tag}>"))
        .map(|i| i + start)
    else {
        return element.to_owned();
    };
    format!("{}{value}{}", &element[..start], &element[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_top_level_elements_are_rewritten() {
        let body = "<R><LoadBalancers><member><Arn>a</Arn><Zones><member>z</member></Zones><Code>active</Code></member><member><Arn>b</Arn><Code>active</Code></member></LoadBalancers></R>";
        let mut seen = Vec::new();
        let out = rewrite_listed(body, "LoadBalancers", &mut |m| {
            seen.push(text_of(m, "Arn").unwrap_or("?").to_owned());
            (text_of(m, "Arn") == Some("a")).then(|| with_text(m, "Code", "provisioning"))
        });
        assert_eq!(seen, ["a", "b"]);
        assert!(
            out.contains("<Arn>a</Arn><Zones><member>z</member></Zones><Code>provisioning</Code>")
        );
        assert!(out.contains("<Arn>b</Arn><Code>active</Code>"));
    }

    #[test]
    fn errors_take_each_protocol_s_shape() {
        let ec2 = throttled(Protocol::Ec2, "ec2");
        assert_eq!(ec2.status(), StatusCode::SERVICE_UNAVAILABLE);
        let json = throttled(Protocol::Json, "ecs");
        assert_eq!(json.headers()["x-amzn-errortype"], "ThrottlingException");
    }
}
