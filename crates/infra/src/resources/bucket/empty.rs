//! Deleting a bucket: S3 deletes only an empty one, so its objects go first, a thousand a
//! call, with progress; unfinished multipart uploads are aborted. When the delete still finds
//! objects (versions left by versioning someone turned on, or a writer racing the delete), the
//! versions are removed too and the delete is tried again, twice at most.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::read::is_gone;
use crate::context::Context;
use crate::contract::Wait;
use crate::error::{Error, Result};
use crate::id::ResourceId;

/// How many times the delete is tried after emptying finds more.
const ATTEMPTS: usize = 3;

pub(super) async fn empty_and_delete(
    ctx: &Context,
    id: &ResourceId,
    name: &str,
    wait: Wait<'_>,
) -> Result<()> {
    let mut deleted = 0;
    for attempt in 1..=ATTEMPTS {
        let emptied = async {
            deleted += remove(ctx, id, name, (Pass::Objects, deleted), wait).await?;
            if attempt > 1 {
                deleted += remove(ctx, id, name, (Pass::Versions, deleted), wait).await?;
            }
            abort_uploads(ctx, id, name).await
        };
        match emptied.await {
            Ok(()) => {}
            Err(err) if err.code().is_some_and(is_gone) => return Ok(()),
            Err(err) => return Err(err),
        }
        match ctx.s3.delete_bucket().bucket(name).send().await {
            Ok(_) => return Ok(()),
            Err(e) if e.code().is_some_and(is_gone) => return Ok(()),
            Err(e) if e.code() == Some("BucketNotEmpty") && attempt < ATTEMPTS => {
                wait(format!("{name} is not empty yet: emptying it again"));
            }
            Err(e) => return Err(Error::aws(id, "DeleteBucket", e)),
        }
    }
    Ok(())
}

/// Which objects a pass deletes: the current ones, or every version and delete marker.
#[derive(Debug, Clone, Copy)]
enum Pass {
    Objects,
    Versions,
}

/// Deletes what `pass` lists, a page at a time until a listing is empty; answers how many.
async fn remove(
    ctx: &Context,
    id: &ResourceId,
    name: &str,
    (pass, before): (Pass, usize),
    wait: Wait<'_>,
) -> Result<usize> {
    let mut deleted = 0;
    loop {
        let keys = match pass {
            Pass::Objects => objects(ctx, id, name).await?,
            Pass::Versions => versions(ctx, id, name).await?,
        };
        if keys.is_empty() {
            return Ok(deleted);
        }
        deleted += delete_batch(ctx, id, name, keys).await?;
        wait(format!(
            "emptying {name}: {} objects deleted",
            before + deleted
        ));
    }
}

/// The first page of current objects.
async fn objects(ctx: &Context, id: &ResourceId, name: &str) -> Result<Vec<ObjectIdentifier>> {
    let page = ctx
        .s3
        .list_objects_v2()
        .bucket(name)
        .send()
        .await
        .map_err(|e| Error::aws(id, "ListObjectsV2", e))?;
    Ok(page
        .contents()
        .iter()
        .filter_map(|o| ObjectIdentifier::builder().key(o.key()?).build().ok())
        .collect())
}

/// The first page of versions and delete markers.
async fn versions(ctx: &Context, id: &ResourceId, name: &str) -> Result<Vec<ObjectIdentifier>> {
    let page = ctx
        .s3
        .list_object_versions()
        .bucket(name)
        .send()
        .await
        .map_err(|e| Error::aws(id, "ListObjectVersions", e))?;
    let versions = page
        .versions()
        .iter()
        .map(|v| (v.key(), v.version_id()))
        .chain(
            page.delete_markers()
                .iter()
                .map(|m| (m.key(), m.version_id())),
        );
    Ok(versions
        .filter_map(|(key, version)| {
            ObjectIdentifier::builder()
                .key(key?)
                .set_version_id(version.map(str::to_owned))
                .build()
                .ok()
        })
        .collect())
}

async fn delete_batch(
    ctx: &Context,
    id: &ResourceId,
    name: &str,
    keys: Vec<ObjectIdentifier>,
) -> Result<usize> {
    let n = keys.len();
    let delete = Delete::builder()
        .set_objects(Some(keys))
        .quiet(true)
        .build()
        .map_err(Error::request(id, "invalid object list"))?;
    let out = ctx
        .s3
        .delete_objects()
        .bucket(name)
        .delete(delete)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DeleteObjects", e))?;
    if let Some(first) = out.errors().first() {
        return Err(Error::Conflict {
            resource: format!("S3 bucket {name}"),
            message: format!(
                "{} of {n} objects could not be deleted; the first, {:?}: {} ({})",
                out.errors().len(),
                first.key().unwrap_or("?"),
                first.message().unwrap_or("no message"),
                first.code().unwrap_or("no code"),
            ),
        });
    }
    Ok(n)
}

async fn abort_uploads(ctx: &Context, id: &ResourceId, name: &str) -> Result<()> {
    let out = ctx
        .s3
        .list_multipart_uploads()
        .bucket(name)
        .send()
        .await
        .map_err(|e| Error::aws(id, "ListMultipartUploads", e))?;
    for upload in out.uploads() {
        let (Some(key), Some(upload_id)) = (upload.key(), upload.upload_id()) else {
            continue;
        };
        let aborted = ctx
            .s3
            .abort_multipart_upload()
            .bucket(name)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map_err(|e| Error::aws(id, "AbortMultipartUpload", e));
        crate::aws::gone_is_ok(aborted, |c| c == "NoSuchUpload")?;
    }
    Ok(())
}
