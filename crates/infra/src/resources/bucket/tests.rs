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
    assert_eq!(arn(partition("cn-north-1"), "b"), "arn:aws-cn:s3:::b");
}
