//! The table of each kind's calls, by what they are for (see [`super::needs`]).

use super::actions::Service;
use crate::resources::Kind;

/// The operations of one kind, by what they are for.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    pub service: Service,
    /// To find the stack's resources of the kind and read what they are (plan, status, and
    /// the first step of up and down).
    pub read: &'static [&'static str],
    /// To make, change or replace one (up).
    pub write: &'static [&'static str],
    /// To delete one (up, for what the file no longer declares; down).
    pub delete: &'static [&'static str],
}

const fn needs(
    service: Service,
    read: &'static [&'static str],
    write: &'static [&'static str],
    delete: &'static [&'static str],
) -> Needs {
    Needs {
        service,
        read,
        write,
        delete,
    }
}

use Service::*;

/// Each kind's calls, in the registry's order.
pub const TABLE: &[(Kind, Needs)] = &[
    (
        Kind::Vpc,
        needs(
            Ec2,
            &["DescribeVpcs", "DescribeVpcAttribute"],
            &["CreateVpc", "ModifyVpcAttribute"],
            &["DeleteVpc"],
        ),
    ),
    (
        Kind::InternetGateway,
        needs(
            Ec2,
            &["DescribeInternetGateways"],
            &["CreateInternetGateway", "AttachInternetGateway"],
            &["DetachInternetGateway", "DeleteInternetGateway"],
        ),
    ),
    (
        Kind::Subnet,
        needs(
            Ec2,
            &["DescribeSubnets", "DescribeAvailabilityZones"],
            &["CreateSubnet", "ModifySubnetAttribute"],
            &["DeleteSubnet"],
        ),
    ),
    (
        Kind::RouteTable,
        needs(
            Ec2,
            &["DescribeRouteTables"],
            &[
                "CreateRouteTable",
                "CreateRoute",
                "ReplaceRoute",
                "DeleteRoute",
                "AssociateRouteTable",
                "DisassociateRouteTable",
            ],
            &["DisassociateRouteTable", "DeleteRoute", "DeleteRouteTable"],
        ),
    ),
    (
        Kind::ElasticIp,
        needs(
            Ec2,
            &["DescribeAddresses"],
            &["AllocateAddress"],
            &["ReleaseAddress"],
        ),
    ),
    (
        Kind::NatGateway,
        needs(
            Ec2,
            &["DescribeNatGateways"],
            &["CreateNatGateway"],
            &["DeleteNatGateway"],
        ),
    ),
    (
        Kind::SecurityGroup,
        needs(
            Ec2,
            // A group's delete watches the interfaces still in it (`aws::interfaces`).
            &["DescribeSecurityGroups", "DescribeNetworkInterfaces"],
            &[
                "CreateSecurityGroup",
                "AuthorizeSecurityGroupIngress",
                "AuthorizeSecurityGroupEgress",
                "RevokeSecurityGroupIngress",
                "RevokeSecurityGroupEgress",
            ],
            &[
                "RevokeSecurityGroupIngress",
                "RevokeSecurityGroupEgress",
                "DeleteSecurityGroup",
            ],
        ),
    ),
    (
        Kind::Queue,
        needs(
            Sqs,
            &["ListQueues", "GetQueueAttributes", "ListQueueTags"],
            &["CreateQueue", "SetQueueAttributes", "TagQueue"],
            &["DeleteQueue"],
        ),
    ),
    (
        Kind::Bucket,
        needs(
            S3,
            &[
                "GetBucketTagging",
                "GetPublicAccessBlock",
                "GetBucketEncryption",
                "GetBucketLifecycleConfiguration",
                "ListObjectsV2",
            ],
            &[
                "CreateBucket",
                "PutBucketTagging",
                "PutPublicAccessBlock",
                "PutBucketEncryption",
                "PutBucketLifecycleConfiguration",
                "DeleteBucketLifecycle",
            ],
            &[
                "ListObjectsV2",
                "ListObjectVersions",
                "DeleteObjects",
                "ListMultipartUploads",
                "AbortMultipartUpload",
                "DeleteBucket",
            ],
        ),
    ),
    (
        Kind::Repository,
        needs(
            Ecr,
            &[
                "DescribeRepositories",
                "GetLifecyclePolicy",
                "ListTagsForResource",
            ],
            &[
                "CreateRepository",
                "PutLifecyclePolicy",
                "PutImageScanningConfiguration",
                "TagResource",
            ],
            &["DeleteRepository"],
        ),
    ),
    (
        Kind::Role,
        needs(
            Iam,
            &[
                "ListRoles",
                "GetRole",
                "ListAttachedRolePolicies",
                "ListRolePolicies",
                "GetRolePolicy",
            ],
            &[
                "CreateRole",
                "TagRole",
                "UpdateAssumeRolePolicy",
                "AttachRolePolicy",
                "DetachRolePolicy",
                "PutRolePolicy",
                "DeleteRolePolicy",
            ],
            &["DetachRolePolicy", "DeleteRolePolicy", "DeleteRole"],
        ),
    ),
    (
        Kind::LogGroup,
        needs(
            Logs,
            &["DescribeLogGroups", "ListTagsForResource"],
            &["CreateLogGroup", "PutRetentionPolicy", "TagResource"],
            &["DeleteLogGroup"],
        ),
    ),
    (
        Kind::LoadBalancer,
        needs(
            Elb,
            &["DescribeLoadBalancers", "DescribeTags"],
            &[
                "CreateLoadBalancer",
                "SetSecurityGroups",
                "SetSubnets",
                "AddTags",
            ],
            &["DeleteLoadBalancer"],
        ),
    ),
    (
        Kind::TargetGroup,
        needs(
            Elb,
            &[
                "DescribeTargetGroups",
                "DescribeTargetGroupAttributes",
                "DescribeTags",
            ],
            &[
                "CreateTargetGroup",
                "ModifyTargetGroup",
                "ModifyTargetGroupAttributes",
                "AddTags",
            ],
            &["DeleteTargetGroup"],
        ),
    ),
    (
        Kind::Listener,
        needs(
            Elb,
            &["DescribeLoadBalancers", "DescribeListeners", "DescribeTags"],
            &["CreateListener", "ModifyListener", "AddTags"],
            &["DeleteListener"],
        ),
    ),
    (
        Kind::Certificate,
        needs(
            Acm,
            &[
                "ListCertificates",
                "ListTagsForCertificate",
                "DescribeCertificate",
            ],
            &["RequestCertificate", "AddTagsToCertificate"],
            &["DeleteCertificate"],
        ),
    ),
    (
        Kind::ListenerRule,
        needs(
            Elb,
            &["DescribeListeners", "DescribeRules", "DescribeTags"],
            &["CreateRule", "ModifyRule", "SetRulePriorities", "AddTags"],
            &["DeleteRule"],
        ),
    ),
    (
        Kind::AliasRecord,
        needs(
            Route53,
            &["ListHostedZonesByName", "ListResourceRecordSets"],
            &["ChangeResourceRecordSets", "GetChange"],
            &["ChangeResourceRecordSets", "GetChange"],
        ),
    ),
    (
        Kind::Namespace,
        needs(
            CloudMap,
            &["ListNamespaces", "GetNamespace", "ListTagsForResource"],
            &["CreatePrivateDnsNamespace", "GetOperation", "TagResource"],
            &["DeleteNamespace", "GetOperation"],
        ),
    ),
    (
        Kind::DiscoveryService,
        needs(
            CloudMap,
            &["ListServices", "GetService", "ListTagsForResource"],
            &["CreateService", "TagResource"],
            &["DeleteService"],
        ),
    ),
    (
        Kind::Cluster,
        needs(
            Ecs,
            &["ListClusters", "DescribeClusters"],
            &["CreateCluster", "UpdateCluster", "TagResource"],
            &["DeleteCluster"],
        ),
    ),
    (
        Kind::TaskDefinition,
        needs(
            Ecs,
            &[
                "ListTaskDefinitionFamilies",
                "ListTaskDefinitions",
                "DescribeTaskDefinition",
            ],
            &["RegisterTaskDefinition", "TagResource"],
            &["DeregisterTaskDefinition"],
        ),
    ),
    (
        Kind::Service,
        needs(
            Ecs,
            &[
                "ListServices",
                "DescribeServices",
                "ListTasks",
                "DescribeTasks",
            ],
            &["CreateService", "UpdateService", "TagResource"],
            &["UpdateService", "DeleteService"],
        ),
    ),
    (
        Kind::ScalableTarget,
        needs(
            AutoScaling,
            &["DescribeScalableTargets"],
            &["RegisterScalableTarget"],
            &["DeregisterScalableTarget"],
        ),
    ),
    (
        Kind::ScalingPolicy,
        needs(
            AutoScaling,
            &["DescribeScalingPolicies"],
            &["PutScalingPolicy"],
            &["DeleteScalingPolicy"],
        ),
    ),
    (
        Kind::Topic,
        needs(
            Sns,
            &[
                "ListTopics",
                "ListTagsForResource",
                "ListSubscriptionsByTopic",
            ],
            &["CreateTopic", "TagResource", "Subscribe"],
            &["DeleteTopic"],
        ),
    ),
    (
        Kind::Alarm,
        needs(
            CloudWatch,
            &["DescribeAlarms", "ListTagsForResource"],
            &["PutMetricAlarm", "TagResource"],
            &["DeleteAlarms"],
        ),
    ),
    (
        Kind::Dashboard,
        needs(
            CloudWatch,
            &["ListDashboards", "GetDashboard"],
            &["PutDashboard"],
            &["DeleteDashboards"],
        ),
    ),
    (
        Kind::Image,
        needs(
            Ecr,
            &["DescribeImages"],
            &[
                "GetAuthorizationToken",
                "BatchCheckLayerAvailability",
                "InitiateLayerUpload",
                "UploadLayerPart",
                "CompleteLayerUpload",
                "PutImage",
                "BatchGetImage",
            ],
            &[],
        ),
    ),
];
