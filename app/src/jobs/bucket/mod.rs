//! Where jobs live on AWS: the stack's bucket. Every process (the API's tasks, the workers)
//! reads and writes the same objects, so no job lives in one process's memory:
//!
//! - `inputs/<id>`: an uploaded input (a multipart upload, 8 MiB at a time);
//! - `jobs/<id>.json`: the job's record, written when it is queued and when it finishes;
//! - `jobs/<id>/started`: when its first part started (written once, never replaced);
//! - `jobs/<id>/parts/<index>.json`: what each part came to. A part redone (its worker died
//!   before deleting its message) writes the same object again: never counted twice.
//!
//! [`upload`] streams an input in.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Job;
use super::part::PartResult;
use crate::error::error_chain;

pub mod upload;

/// Part results read at once when a job is added up.
const READ_AT_ONCE: usize = 16;

/// A bucket call that failed, with the object it was about.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} s3://{bucket}/{key}: {reason}")]
pub struct BucketError {
    action: &'static str,
    bucket: String,
    key: String,
    reason: String,
    /// The object (or the bucket) is not there.
    missing: bool,
    /// S3 could not be reached, or did not answer in time.
    unreachable: bool,
}

impl BucketError {
    /// True when S3 could not be reached at all; the client should try again later.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable
    }

    pub fn is_missing(&self) -> bool {
        self.missing
    }
}

/// The jobs' objects in one bucket.
#[derive(Debug, Clone)]
pub struct BucketStore {
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) bucket: String,
}

pub fn input_key(id: &str) -> String {
    format!("inputs/{id}")
}

fn record_key(id: &str) -> String {
    format!("jobs/{id}.json")
}

fn parts_prefix(id: &str) -> String {
    format!("jobs/{id}/parts/")
}

fn started_key(id: &str) -> String {
    format!("jobs/{id}/started")
}

impl BucketStore {
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub(crate) fn error<E>(
        &self,
        action: &'static str,
        key: &str,
    ) -> impl FnOnce(E) -> BucketError + use<E>
    where
        E: std::error::Error + 'static,
    {
        let (bucket, key) = (self.bucket.clone(), key.to_owned());
        move |err| BucketError {
            action,
            bucket,
            key,
            reason: error_chain(&err),
            missing: false,
            unreachable: false,
        }
    }

    /// As [`Self::error`] for an AWS call: a 404 answer says the object is missing.
    fn sdk<E>(
        &self,
        action: &'static str,
        key: &str,
    ) -> impl FnOnce(SdkError<E>) -> BucketError + use<E>
    where
        E: std::error::Error + 'static,
    {
        let error = self.error(action, key);
        move |err| {
            let missing = err
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 404);
            let unreachable = matches!(
                err,
                SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
            );
            BucketError {
                missing,
                unreachable,
                ..error(err)
            }
        }
    }

    pub(crate) async fn put(&self, key: &str, body: Bytes) -> Result<(), BucketError> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(self.sdk("write", key))?;
        Ok(())
    }

    async fn put_json(&self, key: &str, value: &impl Serialize) -> Result<(), BucketError> {
        let body = serde_json::to_vec(value).map_err(self.error("encode", key))?;
        self.put(key, body.into()).await
    }

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, BucketError> {
        let out = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(err) => {
                let err = self.sdk("read", key)(err);
                return if err.is_missing() { Ok(None) } else { Err(err) };
            }
        };
        let body = out.body.collect().await.map_err(self.error("read", key))?;
        serde_json::from_slice(&body.into_bytes())
            .map(Some)
            .map_err(self.error("decode", key))
    }

    /// The size of the object `key`, or `None` when there is none.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, BucketError> {
        match self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.content_length
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            )),
            Err(err) => {
                let err = self.sdk("look up", key)(err);
                if err.is_missing() { Ok(None) } else { Err(err) }
            }
        }
    }

    /// Bytes `from..to` of `key` (fewer at its end), as a stream.
    pub async fn read_range(
        &self,
        key: &str,
        from: u64,
        to: u64,
    ) -> Result<ByteStream, BucketError> {
        let last = to.max(from + 1) - 1;
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes={from}-{last}"))
            .send()
            .await
            .map_err(self.sdk("read", key))?;
        Ok(out.body)
    }

    pub async fn put_record(&self, job: &Job) -> Result<(), BucketError> {
        self.put_json(&record_key(&job.job_id), job).await
    }

    pub async fn record(&self, id: &str) -> Result<Option<Job>, BucketError> {
        self.get_json(&record_key(id)).await
    }

    /// Notes when job `id` started, unless a part noted it before.
    pub async fn mark_started(&self, id: &str, at_ms: u64) -> Result<(), BucketError> {
        let key = started_key(id);
        let put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(ByteStream::from(at_ms.to_string().into_bytes()))
            .if_none_match("*")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 412) =>
            {
                Ok(())
            }
            Err(err) => Err(self.sdk("write", &key)(err)),
        }
    }

    /// When job `id`'s first part started, if one has.
    pub async fn started(&self, id: &str) -> Result<Option<u64>, BucketError> {
        self.get_json(&started_key(id)).await
    }

    pub async fn put_part(&self, id: &str, part: &PartResult) -> Result<(), BucketError> {
        let key = format!("{}{:06}.json", parts_prefix(id), part.index);
        self.put_json(&key, part).await
    }

    /// The keys under `prefix`.
    async fn keys(&self, prefix: &str) -> Result<Vec<String>, BucketError> {
        let pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        futures::pin_mut!(pages);
        while let Some(page) = pages.next().await {
            let page = page.map_err(self.sdk("list", prefix))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key.clone()));
        }
        Ok(keys)
    }

    /// The keys of job `id`'s part results: one per part done.
    pub async fn part_keys(&self, id: &str) -> Result<Vec<String>, BucketError> {
        self.keys(&parts_prefix(id)).await
    }

    /// What the part results at `keys` came to, in no order. A part listed and gone by the
    /// time it is read was removed by whoever finished the job (parts go only then): it is
    /// left out, and the caller sees fewer parts than the job has.
    pub async fn parts(&self, keys: Vec<String>) -> Result<Vec<PartResult>, BucketError> {
        let read: Vec<Option<PartResult>> = futures::stream::iter(keys)
            .map(|key| async move { self.get_json::<PartResult>(&key).await })
            .buffer_unordered(READ_AT_ONCE)
            .try_collect()
            .await?;
        Ok(read.into_iter().flatten().collect())
    }

    /// Removes what a finished job no longer needs: its parts (those at `part_keys` when the
    /// caller has just listed them, else listed here), its start mark, and its input when
    /// the service uploaded it (an input the client put in the bucket is the client's).
    pub async fn clean_up(&self, job: &Job, part_keys: Option<Vec<String>>) {
        let listed = match part_keys {
            Some(keys) => Ok(keys),
            None => self.part_keys(&job.job_id).await,
        };
        let mut keys = match listed {
            Ok(keys) => keys,
            Err(err) => {
                tracing::warn!(error = %error_chain(&err), "could not list a finished job's parts");
                Vec::new()
            }
        };
        keys.push(started_key(&job.job_id));
        if job.input.as_deref() == Some(input_key(&job.job_id).as_str()) {
            keys.push(input_key(&job.job_id));
        }
        for batch in keys.chunks(1000) {
            let objects = batch
                .iter()
                .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
                .collect();
            let Ok(delete) = Delete::builder().set_objects(Some(objects)).build() else {
                continue;
            };
            let deleted = self
                .s3
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await;
            if let Err(err) = deleted {
                tracing::warn!(job_id = %job.job_id, error = %error_chain(&err), "could not remove a finished job's objects");
            }
        }
    }
}
