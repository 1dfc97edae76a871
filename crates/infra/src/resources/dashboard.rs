//! The stack's CloudWatch dashboard (`<stack>`): the load balancer's requests, errors and
//! latency, each service's own metrics (the app's EMF lines: request latency, a worker's
//! execution and lead time) and CPU, and each queue's backlog and oldest message. Found by
//! its name; the body put back when edited by hand.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Value, json};

use super::alarm::cloudwatch_name;
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub name: String,
    pub stack: String,
    pub region: String,
    /// The load balancer (logical id), when the stack has one.
    pub load_balancer: Option<ResourceId>,
    /// `(name in the file, ECS service name, cluster, is a worker)` of each running service.
    pub services: Vec<(String, String, String, bool)>,
    /// `(name in the file, queue's AWS name)`.
    pub queues: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DashboardState {
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Body,
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        FieldChange::new("body", "(edited)", "(as stack.toml says)")
    }
}

fn widget(title: &str, metrics: Vec<Value>, region: &str, stat: &str) -> Value {
    json!({
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "stat": stat,
            "period": 60,
            "view": "timeSeries",
            "metrics": metrics,
        }
    })
}

impl Dashboard {
    /// The body, with the load balancer's CloudWatch name when it has one.
    pub fn body(&self, load_balancer: Option<&str>) -> Value {
        let r = &self.region;
        let mut widgets = Vec::new();
        if let Some(lb) = load_balancer {
            let elb = "AWS/ApplicationELB";
            widgets.push(widget(
                "Requests and errors",
                vec![
                    json!([elb, "RequestCount", "LoadBalancer", lb]),
                    json!([elb, "HTTPCode_Target_5XX_Count", "LoadBalancer", lb]),
                    json!([elb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb]),
                ],
                r,
                "Sum",
            ));
            widgets.push(widget(
                "Response time (p99, s)",
                vec![json!([elb, "TargetResponseTime", "LoadBalancer", lb])],
                r,
                "p99",
            ));
        }
        for service in &self.services {
            widgets.extend(self.service_widgets(service));
        }
        for (name, queue) in &self.queues {
            widgets.push(widget(
                &format!("{name}: backlog and oldest message (s)"),
                vec![
                    json!(["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue]),
                    json!(["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, {"yAxis": "right"}]),
                ],
                r,
                "Maximum",
            ));
        }
        json!({ "widgets": widgets })
    }

    /// A service's own metrics (from its EMF lines) and its CPU and memory.
    fn service_widgets(
        &self,
        (name, ecs, cluster, worker): &(String, String, String, bool),
    ) -> Vec<Value> {
        let r = &self.region;
        let mut widgets = Vec::new();
        let own = |metric: &str| json!(["stackctl", metric, "Stack", self.stack, "Service", name]);
        let mine = if *worker {
            vec![own("execution_ms"), own("lead_ms")]
        } else {
            vec![own("latency_ms")]
        };
        let title = if *worker {
            format!("{name}: execution and lead time (p99, ms)")
        } else {
            format!("{name}: request latency (p99, ms)")
        };
        widgets.push(widget(&title, mine, r, "p99"));
        widgets.push(widget(
            &format!("{name}: CPU and memory (%)"),
            vec![
                json!([
                    "AWS/ECS",
                    "CPUUtilization",
                    "ClusterName",
                    cluster,
                    "ServiceName",
                    ecs
                ]),
                json!([
                    "AWS/ECS",
                    "MemoryUtilization",
                    "ClusterName",
                    cluster,
                    "ServiceName",
                    ecs
                ]),
            ],
            r,
            "Average",
        ));
        widgets
    }

    /// The body wanted, once the load balancer (if any) exists.
    pub(crate) fn wanted(&self, refs: &Outputs) -> Option<Value> {
        let lb = match &self.load_balancer {
            Some(id) => {
                let arn = Ref::new(refs, id, Attr::Arn).known?;
                Some(cloudwatch_name(&arn, ":loadbalancer/")?)
            }
            None => None,
        };
        Some(self.body(lb.as_deref()))
    }
}

impl Resource for Dashboard {
    type State = DashboardState;
    type Field = Field;
    const LABEL: &'static str = "dashboard";
    // Dashboards take no tags: found by their name, which is the stack's.
    const TAGGING: Tagging = Tagging::None;

    fn refs(&self) -> Vec<&ResourceId> {
        self.load_balancer.iter().collect()
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let listed = ctx
            .cloudwatch
            .list_dashboards()
            .dashboard_name_prefix(&ctx.stack)
            .send()
            .await
            .map_err(|e| Error::aws("dashboards", "ListDashboards", e))?;
        let mut found = Vec::new();
        for entry in listed.dashboard_entries() {
            // Only the stack's own name: `<stack>-x` is another stack's dashboard.
            let Some(name) = entry.dashboard_name().filter(|n| *n == ctx.stack) else {
                continue;
            };
            let got = match ctx
                .cloudwatch
                .get_dashboard()
                .dashboard_name(name)
                .send()
                .await
            {
                Ok(got) => got,
                // Deleted between the listing and this read: there is none.
                Err(e) if e.code() == Some("ResourceNotFound") => continue,
                Err(e) => return Err(Error::aws("dashboard", "GetDashboard", e)),
            };
            let body = got
                .dashboard_body()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            found.push(Found {
                id: ResourceId::DASHBOARD,
                aws_id: name.to_owned(),
                arn: entry.dashboard_arn().map(str::to_owned),
                state: "available".into(),
                tags: Tags::new(),
                detail: DashboardState { body },
            });
        }
        Ok(found)
    }

    fn diff(&self, found: &DashboardState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        // Unknown: the load balancer is made (anew) in this run, so the body changes with it.
        diff.push_if(self.wanted(refs).as_ref() != Some(&found.body), || {
            Field::Body
        });
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        put(ctx, new.id, self, new.refs).await?;
        Ok(Output::id(self.name.clone()))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<DashboardState>,
        _: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        put(ctx, &found.id, self, refs).await?;
        Ok(Self::output(found))
    }

    async fn retag(_: &Context, _: &Found<DashboardState>, _: &Tags) -> Result<()> {
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<DashboardState>, _: Wait<'_>) -> Result<()> {
        let result = ctx
            .cloudwatch
            .delete_dashboards()
            .dashboard_names(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteDashboards", e));
        crate::aws::gone_is_ok(result, |c| c == "ResourceNotFound")
    }

    fn uses(_: &Found<DashboardState>) -> Vec<String> {
        Vec::new()
    }
}

/// Makes or replaces the dashboard (the call is an upsert by name).
async fn put(ctx: &Context, id: &ResourceId, dashboard: &Dashboard, refs: &Outputs) -> Result<()> {
    let body = dashboard.wanted(refs).ok_or_else(|| Error::Unresolved {
        resource: id.clone(),
        message: "the load balancer has no ARN yet".into(),
    })?;
    ctx.cloudwatch
        .put_dashboard()
        .dashboard_name(&dashboard.name)
        .dashboard_body(body.to_string())
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutDashboard", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dashboard() -> Dashboard {
        Dashboard {
            name: "shop".into(),
            stack: "shop".into(),
            region: "us-east-1".into(),
            load_balancer: Some("load-balancer".into()),
            services: vec![
                ("web".into(), "shop-web".into(), "shop".into(), false),
                ("worker".into(), "shop-worker".into(), "shop".into(), true),
            ],
            queues: vec![("jobs".into(), "shop-jobs".into())],
        }
    }

    #[test]
    fn the_body_shows_the_load_balancer_each_service_s_own_metrics_and_each_queue() {
        let body = dashboard().body(Some("app/shop-alb/50dc"));
        let titles: Vec<&str> = body["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["properties"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles,
            [
                "Requests and errors",
                "Response time (p99, s)",
                "web: request latency (p99, ms)",
                "web: CPU and memory (%)",
                "worker: execution and lead time (p99, ms)",
                "worker: CPU and memory (%)",
                "jobs: backlog and oldest message (s)",
            ]
        );
        let worker = &body["widgets"][4]["properties"]["metrics"][1];
        assert_eq!(
            worker,
            &json!(["stackctl", "lead_ms", "Stack", "shop", "Service", "worker"])
        );
    }

    #[test]
    fn an_edited_body_is_a_change_and_the_same_one_is_none() {
        let mut refs = Outputs::new();
        refs.insert(
            "load-balancer".into(),
            Output::arn("arn:aws:elasticloadbalancing:r:1:loadbalancer/app/shop-alb/50dc"),
        );
        let same = DashboardState {
            body: dashboard().body(Some("app/shop-alb/50dc")),
        };
        assert!(dashboard().diff(&same, &refs).is_empty());
        let edited = DashboardState {
            body: json!({"widgets": []}),
        };
        assert_eq!(dashboard().diff(&edited, &refs).fields, [Field::Body]);
    }

    mod calls {
        use aws_sdk_cloudwatch::operation::delete_dashboards::{
            DeleteDashboardsError, DeleteDashboardsOutput,
        };
        use aws_sdk_cloudwatch::operation::get_dashboard::{GetDashboardError, GetDashboardOutput};
        use aws_sdk_cloudwatch::operation::list_dashboards::ListDashboardsOutput;
        use aws_sdk_cloudwatch::operation::put_dashboard::PutDashboardOutput;
        use aws_sdk_cloudwatch::types::DashboardEntry;
        use aws_smithy_mocks::{Rule, mock};

        use super::*;
        use crate::resources::testing::{self, fails};

        const LB: &str = "arn:aws:elasticloadbalancing:r:1:loadbalancer/app/s-alb/50dc";

        fn dashboard() -> Dashboard {
            Dashboard {
                name: "s".into(),
                stack: "s".into(),
                ..super::dashboard()
            }
        }

        fn refs() -> Outputs {
            let mut refs = Outputs::new();
            refs.insert("load-balancer".into(), Output::arn(LB));
            refs
        }

        fn found() -> Found<DashboardState> {
            let body = dashboard().body(Some("app/s-alb/50dc"));
            testing::found("dashboard", "s", DashboardState { body })
        }

        fn put_rule() -> Rule {
            mock!(aws_sdk_cloudwatch::Client::put_dashboard)
                .match_requests(|r| {
                    let body = r
                        .dashboard_body()
                        .and_then(|b| serde_json::from_str(b).ok());
                    r.dashboard_name() == Some("s")
                        && body == Some(dashboard().body(Some("app/s-alb/50dc")))
                })
                .then_output(|| PutDashboardOutput::builder().build())
        }

        #[tokio::test]
        async fn create_and_update_put_the_body_built_from_the_load_balancer() {
            let put = put_rule();
            let ctx = testing::cloudwatch(&[&put]);
            let creating = testing::Creating::new(ResourceId::DASHBOARD, refs());
            let output = dashboard().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "s");
            let mut edited = found();
            edited.detail.body = json!({"widgets": []});
            let fields = dashboard().diff(&edited.detail, &refs()).fields;
            dashboard()
                .update(&ctx, &edited, &fields, &refs(), &|_| {})
                .await
                .unwrap();
            assert_eq!(put.num_calls(), 2);
        }

        fn listing() -> Rule {
            mock!(aws_sdk_cloudwatch::Client::list_dashboards)
                .match_requests(|r| r.dashboard_name_prefix() == Some("s"))
                .then_output(|| {
                    let entry = |name: &str| DashboardEntry::builder().dashboard_name(name).build();
                    ListDashboardsOutput::builder()
                        .dashboard_entries(entry("s"))
                        .dashboard_entries(entry("s-other"))
                        .build()
                })
        }

        #[tokio::test]
        async fn observe_reads_the_stack_s_own_dashboard_only() {
            let list = listing();
            let get = mock!(aws_sdk_cloudwatch::Client::get_dashboard)
                .match_requests(|r| r.dashboard_name() == Some("s"))
                .then_output(|| {
                    let body = dashboard().body(Some("app/s-alb/50dc")).to_string();
                    GetDashboardOutput::builder().dashboard_body(body).build()
                });
            let ctx = testing::cloudwatch(&[&list, &get]);
            let found = Dashboard::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].id, ResourceId::DASHBOARD);
            assert!(dashboard().diff(&found[0].detail, &refs()).is_empty());
        }

        #[tokio::test]
        async fn a_dashboard_deleted_while_listed_is_not_found() {
            let list = listing();
            let gone = fails!(
                aws_sdk_cloudwatch,
                get_dashboard,
                GetDashboardError,
                "ResourceNotFound"
            );
            let ctx = testing::cloudwatch(&[&list, &gone]);
            let found = Dashboard::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert!(found.is_empty(), "{found:?}");
        }

        #[tokio::test]
        async fn delete_is_one_call_and_a_dashboard_already_gone_is_success() {
            let delete = mock!(aws_sdk_cloudwatch::Client::delete_dashboards)
                .match_requests(|r| r.dashboard_names() == ["s"])
                .then_output(|| DeleteDashboardsOutput::builder().build());
            let ctx = testing::cloudwatch(&[&delete]);
            Dashboard::delete(&ctx, &found(), &|_| {}).await.unwrap();
            assert_eq!(delete.num_calls(), 1);

            let gone = fails!(
                aws_sdk_cloudwatch,
                delete_dashboards,
                DeleteDashboardsError,
                "ResourceNotFound"
            );
            let ctx = testing::cloudwatch(&[&gone]);
            Dashboard::delete(&ctx, &found(), &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
