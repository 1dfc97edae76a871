//! Deleting a security group that network interfaces still use. A deleted load balancer or
//! service leaves its interfaces behind for a minute or more, and until they go, AWS refuses the
//! group's delete with `DependencyViolation`. Retrying the delete is a mutating call each time
//! (fifty groups retrying every few seconds pass EC2's refill of five mutating calls a second);
//! looking at the group's interfaces is a read, paced to EC2's describe rate, so the group is
//! deleted once, moments after its last interface goes.

use aws_sdk_ec2::types::Filter;
use tokio::time::Instant;

use crate::context::Context;
use crate::contract::Wait;
use crate::error::Result;
use crate::retry::Backoff;

/// How many network interfaces are in `group`, or `None` when EC2 cannot say (a policy
/// without `ec2:DescribeNetworkInterfaces`, an endpoint without it).
async fn in_group(ctx: &Context, group: &str) -> Option<usize> {
    ctx.rates.take("ec2", "DescribeNetworkInterfaces").await;
    let out = ctx
        .ec2
        .describe_network_interfaces()
        .filters(Filter::builder().name("group-id").values(group).build())
        .send()
        .await;
    match out {
        Ok(out) => Some(out.network_interfaces().len()),
        Err(e) => {
            tracing::debug!(error = %e, group, "cannot list the group's network interfaces");
            None
        }
    }
}

/// Runs `delete` (the group's delete call) until it succeeds or fails with anything but
/// `DependencyViolation`. After a refusal it watches the group's interfaces until none is
/// left, then tries again; when there were none to watch (another group's rule still names
/// it, or EC2 cannot list them), it backs off as any retry does. Gives up after
/// `settings.dependency_timeout`.
pub async fn delete_watching<F, Fut>(
    ctx: &Context,
    wait: Wait<'_>,
    group: &str,
    mut delete: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let deadline = Instant::now() + ctx.settings.dependency_timeout;
    let mut backoff = Backoff::new(&ctx.settings);
    loop {
        let err = match delete().await {
            Err(err) if err.code() == Some("DependencyViolation") => err,
            other => return other,
        };
        if Instant::now() >= deadline {
            return Err(err);
        }
        let mut watched = false;
        while let Some(n @ 1..) = in_group(ctx, group).await {
            watched = true;
            wait(format!(
                "waiting for {n} network interface(s) to leave the group"
            ));
            if Instant::now() >= deadline {
                return Err(err);
            }
            crate::slots::pause(ctx.settings.initial_backoff).await;
        }
        if !watched {
            wait(format!("waiting for what still uses the group: {err}"));
            crate::slots::pause(backoff.pause()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::delete_security_group::{
        DeleteSecurityGroupError, DeleteSecurityGroupOutput,
    };
    use aws_sdk_ec2::operation::describe_network_interfaces::{
        DescribeNetworkInterfacesError, DescribeNetworkInterfacesOutput,
    };
    use aws_sdk_ec2::types::NetworkInterface;
    use aws_smithy_mocks::mock;
    use aws_smithy_types::error::ErrorMetadata;
    use std::sync::Mutex;

    use super::*;
    use crate::error::Error;
    use crate::resources::testing;

    fn refused() -> DeleteSecurityGroupError {
        DeleteSecurityGroupError::generic(
            ErrorMetadata::builder()
                .code("DependencyViolation")
                .message("resource sg-1 has a dependent object")
                .build(),
        )
    }

    fn interfaces(n: usize) -> DescribeNetworkInterfacesOutput {
        let eni = NetworkInterface::builder()
            .network_interface_id("eni-1")
            .build();
        DescribeNetworkInterfacesOutput::builder()
            .set_network_interfaces(Some(vec![eni; n]))
            .build()
    }

    async fn delete(ctx: &Context, heard: &Mutex<Vec<String>>) -> Result<()> {
        let wait = |m: String| heard.lock().unwrap().push(m);
        delete_watching(ctx, &wait, "sg-1", || async {
            ctx.ec2
                .delete_security_group()
                .group_id("sg-1")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| Error::aws("security-group", "DeleteSecurityGroup", e))
        })
        .await
    }

    #[tokio::test]
    async fn a_refused_delete_waits_for_the_group_s_interfaces_then_deletes_once() {
        let deletes = mock!(aws_sdk_ec2::Client::delete_security_group)
            .sequence()
            .error(refused)
            .output(|| DeleteSecurityGroupOutput::builder().build())
            .build();
        let looks = mock!(aws_sdk_ec2::Client::describe_network_interfaces)
            .match_requests(|r| {
                r.filters()[0].name() == Some("group-id") && r.filters()[0].values() == ["sg-1"]
            })
            .sequence()
            .output(|| interfaces(2))
            .times(3)
            .output(|| interfaces(0))
            .build();
        let ctx = testing::ec2(&[&deletes, &looks]);
        let heard = Mutex::new(Vec::new());
        delete(&ctx, &heard).await.unwrap();
        assert_eq!(
            deletes.num_calls(),
            2,
            "no delete while interfaces are in the group"
        );
        assert_eq!(looks.num_calls(), 4);
        assert!(heard.lock().unwrap()[0].contains("2 network interface(s)"));
    }

    #[tokio::test]
    async fn without_interfaces_to_watch_a_refused_delete_backs_off_and_tries_again() {
        let deletes = mock!(aws_sdk_ec2::Client::delete_security_group)
            .sequence()
            .error(refused)
            .times(2)
            .output(|| DeleteSecurityGroupOutput::builder().build())
            .build();
        let denied = mock!(aws_sdk_ec2::Client::describe_network_interfaces).then_error(|| {
            DescribeNetworkInterfacesError::generic(
                ErrorMetadata::builder()
                    .code("UnauthorizedOperation")
                    .build(),
            )
        });
        let ctx = testing::ec2(&[&deletes, &denied]);
        let heard = Mutex::new(Vec::new());
        delete(&ctx, &heard).await.unwrap();
        assert_eq!(deletes.num_calls(), 3);
        assert!(heard.lock().unwrap()[0].contains("what still uses the group"));
    }

    #[tokio::test]
    async fn any_other_answer_is_the_delete_s_own() {
        let gone = mock!(aws_sdk_ec2::Client::delete_security_group).then_error(|| {
            DeleteSecurityGroupError::generic(
                ErrorMetadata::builder()
                    .code("InvalidGroup.NotFound")
                    .build(),
            )
        });
        let ctx = testing::ec2(&[&gone]);
        let err = delete(&ctx, &Mutex::new(Vec::new())).await.unwrap_err();
        assert_eq!(err.code(), Some("InvalidGroup.NotFound"));
        assert_eq!(gone.num_calls(), 1);
    }
}
