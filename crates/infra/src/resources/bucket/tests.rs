//! The bucket kind: what is drift, what the plan says before a delete, and the calls each
//! change makes.

use super::*;

fn desired(expire: Option<u32>) -> Bucket {
    Bucket {
        name: "s-uploads".into(),
        expire_after_days: expire,
    }
}

fn state() -> BucketState {
    BucketState {
        public_access_blocked: true,
        encryption: Some(ENCRYPTION.into()),
        expire_after_days: Some(7),
        other_lifecycle_rules: false,
        objects: Objects::Count(0),
    }
}

#[test]
fn a_bucket_as_made_is_unchanged() {
    assert!(desired(Some(7)).diff(&state(), &Outputs::new()).is_empty());
}

#[test]
fn public_access_encryption_and_expiry_are_drift() {
    let found = BucketState {
        public_access_blocked: false,
        encryption: None,
        expire_after_days: Some(30),
        ..state()
    };
    let diff = desired(Some(7)).diff(&found, &Outputs::new());
    assert_eq!(
        diff.fields,
        [
            Field::PublicAccess,
            Field::Encryption { from: None },
            Field::Expiry {
                from: Some(30),
                to: Some(7)
            }
        ]
    );
    assert_eq!(
        diff.fields[2].describe(),
        FieldChange::new("expire_after_days", "30 days", "7 days")
    );
    let none = desired(None).diff(&state(), &Outputs::new());
    assert_eq!(
        none.fields,
        [Field::Expiry {
            from: Some(7),
            to: None
        }]
    );
}

#[test]
fn a_kms_key_someone_chose_is_kept_and_rules_added_by_hand_go() {
    let found = BucketState {
        encryption: Some("aws:kms".into()),
        other_lifecycle_rules: true,
        ..state()
    };
    let diff = desired(Some(7)).diff(&found, &Outputs::new());
    assert_eq!(diff.fields, [Field::OtherRules { expiry: Some(7) }]);
}

#[test]
fn the_plan_says_a_delete_empties_the_bucket_first() {
    let found = |objects| {
        crate::resources::testing::found(
            "bucket-uploads",
            "s-uploads",
            BucketState { objects, ..state() },
        )
    };
    assert_eq!(Bucket::deleting(&found(Objects::Count(0))), None);
    assert_eq!(
        Bucket::deleting(&found(Objects::Count(1))).as_deref(),
        Some("empties it first: 1 object is deleted with it")
    );
    assert_eq!(
        Bucket::deleting(&found(Objects::AtLeast(1000))).as_deref(),
        Some("empties it first: more than 1000 objects are deleted with it")
    );
}

#[test]
fn only_a_bucket_s_own_arn_names_a_bucket() {
    assert_eq!(read::name_of("arn:aws:s3:::s-uploads"), Some("s-uploads"));
    assert_eq!(
        read::name_of("arn:aws-cn:s3:::s-uploads"),
        Some("s-uploads")
    );
    assert_eq!(read::name_of("arn:aws:s3:::s-uploads/key"), None);
    assert_eq!(read::name_of("arn:aws:sqs:us-east-1:1:s-q"), None);
    assert_eq!(arn("cn-north-1", "b"), "arn:aws-cn:s3:::b");
}

mod calls {
    use std::sync::{Arc, Mutex};

    use aws_sdk_s3::operation::create_bucket::{CreateBucketError, CreateBucketOutput};
    use aws_sdk_s3::operation::delete_bucket::{DeleteBucketError, DeleteBucketOutput};
    use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
    use aws_sdk_s3::operation::list_multipart_uploads::ListMultipartUploadsOutput;
    use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::operation::put_bucket_encryption::PutBucketEncryptionOutput;
    use aws_sdk_s3::operation::put_bucket_lifecycle_configuration::PutBucketLifecycleConfigurationOutput;
    use aws_sdk_s3::operation::put_bucket_tagging::PutBucketTaggingOutput;
    use aws_sdk_s3::operation::put_public_access_block::PutPublicAccessBlockOutput;
    use aws_sdk_s3::types::{Object, ObjectVersion};
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::resources::testing::{self, Creating, fails, rule};

    #[tokio::test]
    async fn a_bucket_outside_us_east_1_names_its_region_and_is_made_private_and_encrypted() {
        let create = mock!(aws_sdk_s3::Client::create_bucket)
            .match_requests(|r| {
                r.bucket() == Some("s-uploads")
                    && r.create_bucket_configuration()
                        .and_then(|c| c.location_constraint())
                        .map(|l| l.as_str())
                        == Some("eu-west-1")
            })
            .then_output(|| CreateBucketOutput::builder().build());
        let tag = rule!(aws_sdk_s3, put_bucket_tagging, PutBucketTaggingOutput);
        let block = mock!(aws_sdk_s3::Client::put_public_access_block)
            .match_requests(|r| {
                r.public_access_block_configuration().is_some_and(|c| {
                    c.block_public_acls() == Some(true) && c.restrict_public_buckets() == Some(true)
                })
            })
            .then_output(|| PutPublicAccessBlockOutput::builder().build());
        let encrypt = rule!(aws_sdk_s3, put_bucket_encryption, PutBucketEncryptionOutput);
        let expire = mock!(aws_sdk_s3::Client::put_bucket_lifecycle_configuration)
            .match_requests(|r| {
                r.lifecycle_configuration()
                    .and_then(|c| c.rules().first())
                    .and_then(|rule| rule.expiration())
                    .and_then(|e| e.days())
                    == Some(7)
            })
            .then_output(|| PutBucketLifecycleConfigurationOutput::builder().build());
        let mut ctx = testing::s3(&[&create, &tag, &block, &encrypt, &expire]);
        ctx.region = "eu-west-1".into();
        let creating = Creating::new("bucket-uploads".into(), Outputs::new());
        let output = desired(Some(7)).create(&ctx, creating.get()).await.unwrap();
        assert_eq!(output.arn.as_deref(), Some("arn:aws:s3:::s-uploads"));
        for (rule, name) in [(&create, "create"), (&block, "block"), (&expire, "expiry")] {
            assert_eq!(rule.num_calls(), 1, "{name}");
        }
    }

    #[tokio::test]
    async fn a_bucket_an_attempt_with_a_lost_answer_made_is_taken_up_and_tagged() {
        let ours = fails!(
            aws_sdk_s3,
            create_bucket,
            CreateBucketError,
            "BucketAlreadyOwnedByYou"
        );
        let tag = rule!(aws_sdk_s3, put_bucket_tagging, PutBucketTaggingOutput);
        let block = rule!(
            aws_sdk_s3,
            put_public_access_block,
            PutPublicAccessBlockOutput
        );
        let encrypt = rule!(aws_sdk_s3, put_bucket_encryption, PutBucketEncryptionOutput);
        let ctx = testing::s3(&[&ours, &tag, &block, &encrypt]);
        let creating = Creating::new("bucket-uploads".into(), Outputs::new());
        desired(None).create(&ctx, creating.get()).await.unwrap();
        assert_eq!((tag.num_calls(), block.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_name_another_account_holds_is_a_conflict_that_says_so() {
        let taken = fails!(
            aws_sdk_s3,
            create_bucket,
            CreateBucketError,
            "BucketAlreadyExists"
        );
        let ctx = testing::s3(&[&taken]);
        let creating = Creating::new("bucket-uploads".into(), Outputs::new());
        let err = desired(None)
            .create(&ctx, creating.get())
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("S3 bucket s-uploads") && text.contains("another AWS account"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_delete_empties_the_bucket_and_versions_left_behind_are_removed_too() {
        // The first listing has two objects, then none; the first delete finds versions left.
        let listed = Arc::new(Mutex::new(0));
        let seen = Arc::clone(&listed);
        let list = mock!(aws_sdk_s3::Client::list_objects_v2).then_output(move || {
            let mut n = seen.lock().unwrap();
            *n += 1;
            let contents = if *n == 1 {
                vec![
                    Object::builder().key("a").build(),
                    Object::builder().key("b").build(),
                ]
            } else {
                Vec::new()
            };
            ListObjectsV2Output::builder()
                .set_contents(Some(contents))
                .build()
        });
        let versions_listed = Arc::new(Mutex::new(0));
        let seen_versions = Arc::clone(&versions_listed);
        let versions = mock!(aws_sdk_s3::Client::list_object_versions).then_output(move || {
            let mut n = seen_versions.lock().unwrap();
            *n += 1;
            let versions = if *n == 1 {
                vec![ObjectVersion::builder().key("a").version_id("v1").build()]
            } else {
                Vec::new()
            };
            ListObjectVersionsOutput::builder()
                .set_versions(Some(versions))
                .build()
        });
        let delete_objects = rule!(aws_sdk_s3, delete_objects, DeleteObjectsOutput);
        let uploads = rule!(
            aws_sdk_s3,
            list_multipart_uploads,
            ListMultipartUploadsOutput
        );
        // Not empty once (a version is left), then deleted.
        let delete = mock!(aws_sdk_s3::Client::delete_bucket)
            .sequence()
            .error(|| {
                DeleteBucketError::generic(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("BucketNotEmpty")
                        .build(),
                )
            })
            .output(|| DeleteBucketOutput::builder().build())
            .build();
        let ctx = testing::s3(&[&list, &versions, &delete_objects, &uploads, &delete]);
        let found = testing::found("bucket-uploads", "s-uploads", state());
        let said = Mutex::new(Vec::new());
        let wait = |m: String| said.lock().unwrap().push(m);
        Bucket::delete(&ctx, &found, &wait).await.unwrap();
        assert_eq!(
            delete_objects.num_calls(),
            2,
            "the objects, then the version"
        );
        assert_eq!(delete.num_calls(), 2);
        let said = said.lock().unwrap();
        assert!(
            said.iter()
                .any(|m| m == "emptying s-uploads: 2 objects deleted"),
            "{said:?}"
        );
        assert!(said.iter().any(|m| m.contains("not empty yet")), "{said:?}");
    }
}
