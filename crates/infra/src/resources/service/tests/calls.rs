//! The service's AWS calls: `create` sends every setting (and converges with one update when
//! the endpoint drops some), waits out IAM propagation, `observe` reads the services of the
//! stack's clusters alone, `delete` forces and waits until the service is inactive.

use aws_sdk_ecs::operation::create_service::{
    CreateServiceError, CreateServiceInput, CreateServiceOutput,
};
use aws_sdk_ecs::operation::delete_service::{DeleteServiceError, DeleteServiceOutput};
use aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput;
use aws_sdk_ecs::operation::list_clusters::ListClustersOutput;
use aws_sdk_ecs::operation::list_services::ListServicesOutput;
use aws_sdk_ecs::types::{Cluster, LoadBalancer, NetworkConfiguration, Tag};
use aws_smithy_mocks::{MockResponse, mock};
use aws_smithy_types::error::ErrorMetadata;

use super::*;
use crate::resources::testing::fails;

const ARN: &str = "arn:aws:ecs:us-east-1:1:service/s/s";

/// The service ECS would answer for a create request, with `running` tasks.
fn created(r: &CreateServiceInput, running: i32) -> AwsService {
    let primary = Deployment::builder()
        .status("PRIMARY")
        .rollout_state(DeploymentRolloutState::Completed)
        .build();
    AwsService::builder()
        .service_arn(ARN)
        .service_name(r.service_name().unwrap_or_default())
        .cluster_arn(r.cluster().unwrap_or_default())
        .status("ACTIVE")
        .set_launch_type(r.launch_type().cloned())
        .set_task_definition(r.task_definition().map(str::to_owned))
        .desired_count(r.desired_count().unwrap_or_default())
        .running_count(running)
        .deployments(primary)
        .set_load_balancers(Some(r.load_balancers().to_vec()))
        .set_network_configuration(r.network_configuration().cloned())
        .set_service_registries(Some(r.service_registries().to_vec()))
        .set_health_check_grace_period_seconds(r.health_check_grace_period_seconds())
        .set_deployment_configuration(r.deployment_configuration().cloned())
        .set_tags(Some(r.tags().to_vec()))
        .build()
}

fn stack_tags(id: &str) -> Vec<Tag> {
    testing::stack_tags(id)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

#[tokio::test]
async fn create_sends_every_setting_and_updates_nothing_when_all_came_back() {
    let create = mock!(aws_sdk_ecs::Client::create_service)
        .match_requests(|r| {
            let lb: Option<&LoadBalancer> = r.load_balancers().first();
            r.launch_type() == Some(&LaunchType::Fargate)
                && r.propagate_tags() == Some(&PropagateTags::Service)
                && r.client_token().is_some()
                && lb.and_then(|l| l.target_group_arn()) == Some("arn:tg")
                && lb.and_then(|l| l.container_port()) == Some(5000)
        })
        .then_compute_output(|r| {
            CreateServiceOutput::builder()
                .service(created(r, 1))
                .build()
        });
    // No UpdateService rule: a follow-up update would fail the test.
    let ctx = testing::ecs(&[&create]);
    let creating = testing::Creating::new("service".into(), refs());
    let output = desired().create(&ctx, creating.get()).await.unwrap();
    assert_eq!((output.aws_id.as_str(), create.num_calls()), (ARN, 1));
}

#[tokio::test]
async fn settings_the_endpoint_dropped_on_create_are_put_with_one_update() {
    let create = mock!(aws_sdk_ecs::Client::create_service).then_compute_output(|r| {
        let mut service = created(r, 1);
        service.deployment_configuration = None;
        CreateServiceOutput::builder().service(service).build()
    });
    let update = mock!(aws_sdk_ecs::Client::update_service)
        .match_requests(|r| {
            let config = r.deployment_configuration();
            let breaker = config.and_then(|c| c.deployment_circuit_breaker());
            r.service() == Some(ARN)
                && config.and_then(|c| c.minimum_healthy_percent()) == Some(100)
                && breaker.is_some_and(|b| b.enable() && b.rollback())
                && r.task_definition().is_none()
        })
        .then_output(|| UpdateServiceOutput::builder().build());
    let ctx = testing::ecs(&[&create, &update]);
    let creating = testing::Creating::new("service".into(), refs());
    desired().create(&ctx, creating.get()).await.unwrap();
    assert_eq!(update.num_calls(), 1);
}

#[tokio::test]
async fn a_role_ecs_cannot_assume_yet_is_retried_and_other_errors_are_not() {
    let lag = || {
        CreateServiceError::generic(
            ErrorMetadata::builder()
                .code("InvalidParameterException")
                .message("Unable to assume role and validate the specified targetGroupArn")
                .build(),
        )
    };
    let tries = std::sync::atomic::AtomicUsize::new(0);
    let create = mock!(aws_sdk_ecs::Client::create_service).then_compute_response(move |r| {
        if tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            return MockResponse::Error(lag());
        }
        MockResponse::Output(
            CreateServiceOutput::builder()
                .service(created(r, 1))
                .build(),
        )
    });
    let ctx = testing::ecs(&[&create]);
    let creating = testing::Creating::new("service".into(), refs());
    desired().create(&ctx, creating.get()).await.unwrap();
    assert_eq!(create.num_calls(), 3);

    let wrong = fails!(
        aws_sdk_ecs,
        create_service,
        CreateServiceError,
        "InvalidParameterException"
    );
    let ctx = testing::ecs(&[&wrong]);
    let err = desired().create(&ctx, creating.get()).await.unwrap_err();
    assert_eq!(
        (err.code(), wrong.num_calls()),
        (Some("InvalidParameterException"), 1)
    );
}

#[tokio::test]
async fn observe_reads_the_services_of_the_stack_s_clusters_alone() {
    let clusters = mock!(aws_sdk_ecs::Client::list_clusters).then_output(|| {
        ListClustersOutput::builder()
            .cluster_arns("arn:aws:ecs:us-east-1:1:cluster/s")
            .cluster_arns("arn:aws:ecs:us-east-1:1:cluster/s-by-hand")
            .build()
    });
    let describe_clusters = mock!(aws_sdk_ecs::Client::describe_clusters).then_output(|| {
        let cluster = |name: &str, tags: Vec<Tag>| {
            Cluster::builder()
                .cluster_arn(format!("arn:aws:ecs:us-east-1:1:cluster/{name}"))
                .cluster_name(name)
                .status("ACTIVE")
                .set_tags(Some(tags))
                .build()
        };
        DescribeClustersOutput::builder()
            .clusters(cluster("s", stack_tags("cluster")))
            .clusters(cluster("s-by-hand", Vec::new()))
            .build()
    });
    let list = mock!(aws_sdk_ecs::Client::list_services)
        .match_requests(|r| r.cluster() == Some("arn:aws:ecs:us-east-1:1:cluster/s"))
        .then_output(|| ListServicesOutput::builder().service_arns(ARN).build());
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|r| r.services() == [ARN])
        .then_output(|| {
            let request = CreateServiceInput::builder()
                .service_name("s")
                .cluster("arn:cluster")
                .launch_type(LaunchType::Fargate)
                .task_definition("arn:td:1")
                .desired_count(1)
                .network_configuration(NetworkConfiguration::builder().build())
                .set_tags(Some(stack_tags("service")))
                .build()
                .unwrap();
            DescribeServicesOutput::builder()
                .services(created(&request, 1))
                .build()
        });
    let ctx = testing::ecs(&[&clusters, &describe_clusters, &list, &describe]);
    let found = Service::observe(&Scope::new(&ctx), &[]).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].id.as_str(), found[0].aws_id.as_str()),
        ("service", ARN)
    );
    assert_eq!(found[0].detail.task_definition, "arn:td:1");
    assert_eq!(Service::unready(&found[0]), None, "one of one running");
}

#[tokio::test]
async fn delete_forces_and_waits_until_inactive_and_a_service_already_gone_is_success() {
    let delete = mock!(aws_sdk_ecs::Client::delete_service)
        .match_requests(|r| r.force() == Some(true) && r.cluster() == Some("arn:cluster"))
        .then_output(|| DeleteServiceOutput::builder().build());
    let draining = |status: &'static str| {
        move || {
            let service = AwsService::builder()
                .service_arn(ARN)
                .status(status)
                .running_count(1)
                .build();
            DescribeServicesOutput::builder().services(service).build()
        }
    };
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(draining("DRAINING"))
        .times(2)
        .output(draining("INACTIVE"))
        .build();
    let ctx = testing::ecs(&[&delete, &describe]);
    let found = testing::found("service", ARN, state());
    let waits = std::sync::Mutex::new(Vec::new());
    Service::delete(&ctx, &found, &|note| waits.lock().unwrap().push(note))
        .await
        .unwrap();
    assert_eq!((delete.num_calls(), describe.num_calls()), (1, 3));
    assert!(
        waits.lock().unwrap()[0].contains("draining, 1 running"),
        "{:?}",
        waits.lock().unwrap()
    );

    let gone = fails!(
        aws_sdk_ecs,
        delete_service,
        DeleteServiceError,
        "ServiceNotFoundException"
    );
    let ctx = testing::ecs(&[&gone]);
    Service::delete(&ctx, &found, &|_| {}).await.unwrap();
    assert_eq!(gone.num_calls(), 1);
}
