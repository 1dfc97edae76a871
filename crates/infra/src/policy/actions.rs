//! AWS services by their IAM prefix, and the IAM actions that allow an operation: the same
//! name under the service's prefix, except where S3 names them otherwise.

/// An AWS service by its IAM prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Ec2,
    Sqs,
    Ecr,
    Iam,
    Logs,
    Elb,
    CloudMap,
    Ecs,
    AutoScaling,
    Sns,
    CloudWatch,
    S3,
    Acm,
    Route53,
}

impl Service {
    /// The prefix of its actions in IAM (`ec2:CreateVpc`).
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Ec2 => "ec2",
            Self::Sqs => "sqs",
            Self::Ecr => "ecr",
            Self::Iam => "iam",
            Self::Logs => "logs",
            Self::Elb => "elasticloadbalancing",
            Self::CloudMap => "servicediscovery",
            Self::Ecs => "ecs",
            Self::AutoScaling => "application-autoscaling",
            Self::Sns => "sns",
            Self::CloudWatch => "cloudwatch",
            Self::S3 => "s3",
            Self::Acm => "acm",
            Self::Route53 => "route53",
        }
    }
}

/// The IAM actions that allow `operation` of `service`: `prefix:Operation`, except where S3
/// names its actions otherwise (a bucket's public access block is `s3:PutBucketPublicAccessBlock`,
/// listing its objects `s3:ListBucket`).
pub fn iam_actions(service: Service, operation: &str) -> Vec<String> {
    let s3 = |actions: &[&str]| actions.iter().map(|a| format!("s3:{a}")).collect();
    match (service, operation) {
        (Service::S3, "GetPublicAccessBlock") => s3(&["GetBucketPublicAccessBlock"]),
        (Service::S3, "PutPublicAccessBlock") => s3(&["PutBucketPublicAccessBlock"]),
        (Service::S3, "GetBucketEncryption") => s3(&["GetEncryptionConfiguration"]),
        (Service::S3, "PutBucketEncryption") => s3(&["PutEncryptionConfiguration"]),
        (Service::S3, "GetBucketLifecycleConfiguration") => s3(&["GetLifecycleConfiguration"]),
        (Service::S3, "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle") => {
            s3(&["PutLifecycleConfiguration"])
        }
        (Service::S3, "ListObjectsV2") => s3(&["ListBucket"]),
        (Service::S3, "ListObjectVersions") => s3(&["ListBucketVersions"]),
        (Service::S3, "ListMultipartUploads") => s3(&["ListBucketMultipartUploads"]),
        (Service::S3, "DeleteObjects") => s3(&["DeleteObject", "DeleteObjectVersion"]),
        _ => vec![format!("{}:{operation}", service.prefix())],
    }
}
