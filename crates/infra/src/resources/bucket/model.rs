//! What a bucket is as the file wants it and as AWS has it: a leaf the kind's reading,
//! emptying and changing all use.

/// The id of stackctl's one lifecycle rule.
pub const EXPIRY_RULE: &str = "stackctl-expiry";
/// The default encryption stackctl sets: S3-managed keys.
pub const ENCRYPTION: &str = "AES256";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket's name: global across AWS, `<stack>-<name>`.
    pub name: String,
    /// Objects are deleted this many days after they are written.
    pub expire_after_days: Option<u32>,
}

/// The objects a bucket holds, as far as one listing page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objects {
    Count(usize),
    /// A full page and more: at least this many.
    AtLeast(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketState {
    /// All four public access settings on.
    pub public_access_blocked: bool,
    /// The default encryption's algorithm (`AES256`, `aws:kms`), if any.
    pub encryption: Option<String>,
    /// The expiry of stackctl's lifecycle rule, and whether other rules are there.
    pub expire_after_days: Option<u32>,
    pub other_lifecycle_rules: bool,
    pub objects: Objects,
}

/// The ARN of the bucket `name` in `region` (S3 ARNs name only the region's partition).
pub fn arn(region: &str, name: &str) -> String {
    format!("arn:{}:s3:::{name}", crate::aws::partition(region))
}
