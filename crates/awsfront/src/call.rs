//! Which AWS service and operation a request is, read the way the emulator reads it: the
//! service from the SigV4 credential scope, the operation from the query protocol's `Action`
//! or the JSON protocol's `X-Amz-Target`.

use hyper::HeaderMap;

/// How a service speaks, which decides the shape of its error answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// EC2's query protocol: errors as `<Response><Errors><Error>…`.
    Ec2,
    /// The other query protocols (ELB, IAM, STS): errors as `<ErrorResponse><Error>…`.
    Query,
    /// The JSON protocols (ECS, CloudWatch Logs, ECR, SQS, DynamoDB): `{"__type": …}`.
    Json,
}

/// One request: its service, operation, protocol and parameters.
#[derive(Debug, Clone)]
pub struct Call {
    /// The SigV4 service name: `ec2`, `elasticloadbalancing`, `ecs`, …
    pub service: String,
    pub operation: String,
    pub protocol: Protocol,
    /// Form parameters of a query request, in order.
    pub form: Vec<(String, String)>,
    /// The body of a JSON request.
    pub json: Option<serde_json::Value>,
}

impl Call {
    pub fn read(headers: &HeaderMap, body: &[u8]) -> Self {
        let service = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(scope_service)
            .unwrap_or_default();
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match target {
            Some(target) => Self {
                operation: target.rsplit('.').next().unwrap_or(&target).to_owned(),
                service,
                protocol: Protocol::Json,
                form: Vec::new(),
                json: serde_json::from_slice(body).ok(),
            },
            None => {
                let form: Vec<(String, String)> = form_urlencoded::parse(body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let operation = form
                    .iter()
                    .find(|(k, _)| k == "Action")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let protocol = if service == "ec2" {
                    Protocol::Ec2
                } else {
                    Protocol::Query
                };
                Self {
                    service,
                    operation,
                    protocol,
                    form,
                    json: None,
                }
            }
        }
    }

    /// The operation of a REST call (Route 53's), which neither a target nor an `Action`
    /// names: from its method and path. Other calls are as read.
    pub fn at(mut self, method: &str, path: &str) -> Self {
        if self.service == "route53" && self.operation.is_empty() {
            let path = path.trim_end_matches('/');
            let last = path.rsplit('/').next().unwrap_or_default();
            let parent = path.rsplit('/').nth(1);
            let operation = match (method, parent, last) {
                ("POST", _, "rrset") => "ChangeResourceRecordSets",
                ("GET", _, "rrset") => "ListResourceRecordSets",
                ("GET", Some("change"), _) => "GetChange",
                ("GET", _, "hostedzonesbyname") => "ListHostedZonesByName",
                _ => "",
            };
            self.operation = operation.to_owned();
        }
        self
    }

    /// A form parameter (`LoadBalancerArn`, `DefaultActions.member.1.TargetGroupArn`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A string field of a JSON request.
    pub fn field(&self, pointer: &str) -> Option<&str> {
        self.json.as_ref()?.pointer(pointer)?.as_str()
    }

    /// Reads (`Describe*`, `Get*`, `List*`) change nothing.
    pub fn is_read(&self) -> bool {
        ["Describe", "Get", "List"]
            .iter()
            .any(|p| self.operation.starts_with(p))
    }
}

/// `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, …` → `SERVICE`.
fn scope_service(authorization: &str) -> Option<String> {
    let credential = authorization.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(3).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x";

    #[test]
    fn a_query_request_is_its_action() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static(AUTH));
        let call = Call::read(
            &headers,
            b"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16",
        );
        assert_eq!(
            (call.service.as_str(), call.operation.as_str()),
            ("ec2", "CreateVpc")
        );
        assert_eq!(call.protocol, Protocol::Ec2);
        assert_eq!(call.param("CidrBlock"), Some("10.0.0.0/16"));
        assert!(!call.is_read());
    }

    #[test]
    fn a_route53_request_is_its_method_and_path() {
        let mut headers = HeaderMap::new();
        let auth = AUTH.replace("/ec2/", "/route53/");
        headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        let call = |method, path| Call::read(&headers, b"").at(method, path).operation;
        assert_eq!(
            call("POST", "/2013-04-01/hostedzone/Z1/rrset/"),
            "ChangeResourceRecordSets"
        );
        assert_eq!(
            call("GET", "/2013-04-01/hostedzone/Z1/rrset"),
            "ListResourceRecordSets"
        );
        assert_eq!(call("GET", "/2013-04-01/change/C1"), "GetChange");
        assert_eq!(
            call("GET", "/2013-04-01/hostedzonesbyname"),
            "ListHostedZonesByName"
        );
    }

    #[test]
    fn a_json_request_is_its_target() {
        let mut headers = HeaderMap::new();
        let auth = AUTH.replace("/ec2/", "/ecs/");
        headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("AmazonEC2ContainerServiceV20141113.DescribeServices"),
        );
        let call = Call::read(&headers, br#"{"cluster":"c","services":["s"]}"#);
        assert_eq!(
            (call.service.as_str(), call.operation.as_str()),
            ("ecs", "DescribeServices")
        );
        assert_eq!(call.protocol, Protocol::Json);
        assert_eq!(call.field("/cluster"), Some("c"));
        assert!(call.is_read());
    }
}
