//! `[buckets.NAME]` against the emulator: made private, encrypted and expiring as the file
//! says; drift put back; the plan says a delete empties a bucket first; `up` deletes a bucket
//! the file no longer declares and `down` empties and deletes the rest.

use serde_json::Value;

use crate::helpers::{TestStack, mutating_calls, stderr, stdout};

const IMAGE: &str = "public.ecr.aws/stackctl/app:1";

const BODY: &str = r#"
[buckets.inputs]
expire_after_days = 7
[buckets.results]
[queues.jobs]
[services.worker]
kind = "worker"
consumes = ["jobs"]
reads = ["inputs"]
writes = ["results"]
"#;

async fn put(stack: &TestStack, bucket: &str, keys: usize) {
    for i in 0..keys {
        stack
            .aws
            .s3
            .put_object()
            .bucket(bucket)
            .key(format!("input-{i}.txt"))
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"1 2 3\n"))
            .send()
            .await
            .unwrap();
    }
}

async fn exists(stack: &TestStack, bucket: &str) -> bool {
    stack
        .aws
        .s3
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .is_ok()
}

#[tokio::test]
async fn buckets_are_private_encrypted_put_back_emptied_and_deleted() {
    let stack = TestStack::new("buckets", BODY).await;
    stack.json(&["up", "--image", IMAGE, "--yes"]);
    let (inputs, results) = (
        format!("{}-inputs", stack.name),
        format!("{}-results", stack.name),
    );
    let s3 = &stack.aws.s3;
    let block = s3
        .get_public_access_block()
        .bucket(&inputs)
        .send()
        .await
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let encryption = s3
        .get_bucket_encryption()
        .bucket(&results)
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&inputs)
        .send()
        .await
        .unwrap();
    assert_eq!(lifecycle.rules()[0].expiration().unwrap().days(), Some(7));
    assert!(
        s3.get_bucket_lifecycle_configuration()
            .bucket(&results)
            .send()
            .await
            .is_err(),
        "no expiry asked, none set"
    );
    let second = stack.json(&["up", "--image", IMAGE, "--yes"]);
    assert_eq!(mutating_calls(&second), Vec::<String>::new());

    // Drift: public access opened by hand is blocked again.
    s3.delete_public_access_block()
        .bucket(&results)
        .send()
        .await
        .unwrap();
    let plan = stack.json(&["plan", "--image", IMAGE]);
    let change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "bucket-results")
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(change["action"], "update", "{change}");
    stack.json(&["up", "--image", IMAGE, "--yes"]);
    assert!(
        s3.get_public_access_block()
            .bucket(&results)
            .send()
            .await
            .is_ok()
    );

    // A bucket the file no longer declares goes, emptied, and the plan says so first.
    put(&stack, &results, 3).await;
    stack.write(
        &BODY
            .replace("[buckets.results]\n", "")
            .replace("writes = [\"results\"]\n", ""),
    );
    let plan = stack.run(&["plan", "--image", IMAGE]);
    assert!(
        stdout(&plan).contains("empties it first: 3 objects are deleted with it"),
        "{}",
        stdout(&plan)
    );
    stack.json(&["up", "--image", IMAGE, "--yes"]);
    assert!(
        !exists(&stack, &results).await,
        "the undeclared bucket is gone"
    );

    put(&stack, &inputs, 1200).await;
    let refused = stack.run(&["down"]);
    assert!(
        stdout(&refused).contains("more than 1000 objects are deleted with it"),
        "{}\n{}",
        stdout(&refused),
        stderr(&refused)
    );
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(!exists(&stack, &inputs).await);
    let status = stack.json(&["status"]);
    assert_eq!(status["resources"], Value::Array(Vec::new()), "{status}");
}

#[tokio::test]
async fn a_bucket_name_held_by_another_stack_is_refused_before_any_change() {
    let stack = TestStack::new("taken", "[buckets.data]\n").await;
    let name = format!("{}-data", stack.name);
    stack
        .aws
        .s3
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap();
    let plan = stack.run(&["plan"]);
    assert!(!plan.status.success());
    assert!(
        stderr(&plan).contains(&format!("S3 bucket {name}"))
            && stderr(&plan).contains("not tagged stackctl:stack"),
        "{}",
        stderr(&plan)
    );
    stack
        .aws
        .s3
        .delete_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap();
}
